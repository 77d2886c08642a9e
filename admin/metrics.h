#pragma once

// Prometheus text exposition (format 0.0.4) of the workers' snapshots: a pure function,
// so what /metrics says can be tested without a server.

#include <cstdint>
#include <string>
#include <vector>

#include "relay/net/snapshot.h"

namespace hearth::admin {

struct NodeFigures {
    std::int64_t start_time_unix = 0;
    std::uint32_t connections_open = 0;
    std::uint64_t connections_refused_total = 0;
    std::uint64_t connections_refused_per_source = 0;
    bool per_allocation_series = false;
    std::uint32_t sessions_active = 0;
    bool session_store_up = true;        // the embedded store always is; Redis may not be
    std::uint64_t udp_socket_drops = 0;  // the kernel's, on the open UDP sockets
};

std::string render_metrics(const std::vector<relay::WorkerSnapshot>& workers,
                           const NodeFigures& node);

}  // namespace hearth::admin
