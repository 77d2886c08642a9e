#pragma once

#include <array>
#include <cstdint>

#include "relay/turn/allocation.h"

namespace hearth::turn {

// Totals kept by one worker's state machine. Plain integers: only the owning worker
// writes them; a snapshot is taken on that worker's thread.
struct ServerCounters {
    std::uint64_t binding_requests = 0;
    std::uint64_t allocations_created = 0;
    std::uint64_t allocations_deleted = 0;
    std::uint64_t error_responses = 0;
    std::uint64_t auth_failures = 0;
    std::uint64_t peer_policy_refusals = 0;
    std::uint64_t session_refusals = 0;
    std::uint64_t malformed_messages = 0;
    std::uint64_t rate_limited = 0;           // unauthenticated requests over the per-source limit
    std::uint64_t allocate_rate_limited = 0;  // authenticated Allocates over the per-source limit
    std::uint64_t upkeep_rate_limited = 0;    // Refresh, CreatePermission, ChannelBind, Connect
    std::uint64_t banned_drops = 0;           // requests from a source banned for failing auth
    std::uint64_t bans = 0;
    std::array<std::uint64_t, 8> auth_failures_by_reason{};  // indexed by AuthFailure
    // Traffic of allocations that have ended, by client transport (udp, tcp, tls): the
    // totals are these plus the counters of the allocations still alive.
    std::array<DirectionCounters, 3> retired_client_to_peer{};
    std::array<DirectionCounters, 3> retired_peer_to_client{};
    std::uint64_t dropped_no_allocation = 0;
    std::uint64_t dropped_no_permission = 0;
    std::uint64_t dropped_no_channel = 0;
    std::uint64_t dropped_bandwidth = 0;  // over an allocation's or a session's token bucket
};

}  // namespace hearth::turn
