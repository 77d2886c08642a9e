#pragma once

// Read-only copies of a worker's state, taken on the worker's own thread and handed to
// the control plane (admin API, metrics). The packet path never waits for them.

#include <cstdint>
#include <string>
#include <vector>

#include "relay/net/io_counters.h"
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
    turn::ClientTransport client_transport = turn::ClientTransport::udp;
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

// One allocation as the admin API shows it, at `now`.
AllocationSnapshot snapshot_of(const turn::Allocation& allocation, turn::TimePoint now);

struct WorkerSnapshot {
    unsigned worker_index = 0;
    turn::ServerCounters counters;
    IoCounters io;
    std::vector<AllocationSnapshot> allocations;
};

// What every worker counted, summed by the counter tables; the relayed traffic by client
// transport (udp, tcp, tls) is that of ended allocations and of those alive.
struct NodeCounters {
    turn::ServerCounters server;
    IoCounters io;
    std::array<turn::DirectionCounters, 3> client_to_peer{};
    std::array<turn::DirectionCounters, 3> peer_to_client{};
    std::uint64_t allocations_active = 0;
};
NodeCounters sum_of(const std::vector<WorkerSnapshot>& workers);

}  // namespace hearth::relay
