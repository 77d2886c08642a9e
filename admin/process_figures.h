#pragma once

// The process_* families every Prometheus client library exports (CPU seconds, resident
// memory, descriptors, start time), read from /proc/self when /metrics is asked.

#include <cstdint>
#include <optional>

namespace hearth::admin {

struct ProcessFigures {
    double cpu_seconds = 0;  // user + system
    std::uint64_t resident_memory_bytes = 0;
    std::uint64_t open_fds = 0;
    std::uint64_t max_fds = 0;  // RLIMIT_NOFILE, soft
    double start_time_seconds = 0;
};

// nullopt when /proc cannot be read (not Linux, or /proc not mounted).
std::optional<ProcessFigures> read_process_figures();

}  // namespace hearth::admin
