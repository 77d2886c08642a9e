#pragma once

#include <cstdint>

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
    std::uint64_t rate_limited = 0;  // unauthenticated requests over the per-source limit
    std::uint64_t dropped_no_allocation = 0;
    std::uint64_t dropped_no_permission = 0;
    std::uint64_t dropped_no_channel = 0;
};

}  // namespace hearth::turn
