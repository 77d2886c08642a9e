#pragma once

// CPU seconds a process has used (user + system, all threads), from /proc/PID/stat, and
// this process's own from getrusage: so a figure can say how much the server spent, and
// whether the load generator itself was the limit. Also a process's resident memory.

#include <cstdint>
#include <optional>

namespace hearth::load {

std::optional<double> process_cpu_seconds(int pid);
double own_cpu_seconds();
std::optional<std::uint64_t> process_rss_kib(int pid);  // VmRSS from /proc/PID/status

}  // namespace hearth::load
