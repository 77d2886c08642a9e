#pragma once

// Read-only copies of a worker's state, taken on the worker's own thread and handed to
// the control plane (admin API, metrics). The packet path never waits for them.

#include <cstdint>
#include <string>
#include <vector>

#include "relay/turn/allocation.h"
#include "relay/turn/media_stats.h"
#include "relay/turn/server_counters.h"

namespace hearth::relay {

struct AllocationSnapshot {
    turn::AllocationId id = 0;
    std::string session_id;
    std::string user_id;
    std::string client;     // "ip:port"
    std::string transport;  // udp, tcp, tls
    std::vector<std::string> relayed;
    std::int64_t age_seconds = 0;
    std::int64_t lifetime_remaining_seconds = 0;
    std::size_t permissions = 0;
    std::size_t channels = 0;
    turn::DirectionCounters client_to_peer;
    turn::DirectionCounters peer_to_client;
    std::uint64_t client_to_peer_bps = 0;
    std::uint64_t peer_to_client_bps = 0;
    turn::MediaTotals client_to_peer_media;
    turn::MediaTotals peer_to_client_media;
    int quality = 100;
};

// Drops and refusals counted by the I/O layer, by reason.
struct IoCounters {
    std::uint64_t udp_dropped_not_stun = 0;
    std::uint64_t dropped_malformed = 0;  // looked like STUN, did not parse (any transport)
    std::uint64_t udp_dropped_truncated = 0;
    std::uint64_t udp_send_failures = 0;
    std::uint64_t relay_send_failures = 0;
    std::uint64_t stream_dropped_not_stun = 0;
    std::uint64_t stream_dropped_output_full = 0;
    std::uint64_t tls_handshake_failures = 0;
    std::uint64_t tcp_peer_refused_without_permission = 0;
    std::uint64_t tcp_peer_bind_timeouts = 0;
    std::uint64_t tcp_relay_bandwidth_pauses = 0;
    std::uint64_t accept_out_of_descriptors = 0;
    std::uint64_t relay_out_of_descriptors = 0;
    std::uint64_t requests_parked = 0;   // waited for the session store
    std::uint64_t requests_resumed = 0;  // handed in again when it answered
    // Dropped while waiting for the store: the table or the source's share was full, or
    // the answer took too long.
    std::uint64_t requests_dropped_waiting_for_store = 0;
};

// One allocation as the admin API shows it, at `now`.
AllocationSnapshot snapshot_of(const turn::Allocation& allocation, turn::TimePoint now);

struct WorkerSnapshot {
    unsigned worker_index = 0;
    turn::ServerCounters counters;
    IoCounters io;
    std::vector<AllocationSnapshot> allocations;
};

}  // namespace hearth::relay
