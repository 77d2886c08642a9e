#pragma once

// CPU seconds a process has used (user + system, all threads), from /proc/PID/stat, and
// this process's own from getrusage: so a figure can say how much the server spent, and
// whether the load generator itself was the limit.

#include <optional>

namespace hearth::load {

std::optional<double> process_cpu_seconds(int pid);
double own_cpu_seconds();

}  // namespace hearth::load
