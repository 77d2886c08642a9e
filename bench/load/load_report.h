#pragma once

// What hearth-load prints: a plain table for people, one JSON object for scripts.

#include <cstdint>
#include <optional>
#include <string>

#include "bench/load/load_options.h"
#include "bench/load/load_traffic.h"

namespace hearth::load {

struct LoadReport {
    double setup_seconds = 0;  // Allocate for every client, 401 included
    // CPU seconds spent during the setup: the server's (when --server-pid) and
    // hearth-load's own, which shares the machine.
    std::optional<double> server_setup_cpu_seconds;
    double own_setup_cpu_seconds = 0;
    const TrafficResult* traffic = nullptr;
    std::optional<double> server_cpu_seconds;  // during the traffic, when --server-pid
    double own_cpu_seconds = 0;                // hearth-load's, during the traffic
    // The server's resident memory before the allocations and once they are set up.
    std::optional<std::uint64_t> server_rss_before_kib;
    std::optional<std::uint64_t> server_rss_allocated_kib;
};

std::string format_table(const LoadOptions& options, const LoadReport& report);
std::string format_json(const LoadOptions& options, const LoadReport& report);

}  // namespace hearth::load
