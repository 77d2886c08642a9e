#pragma once

// CPU seconds a process has used (user + system, all threads), from /proc/PID/stat, and
// this process's own from getrusage: so a figure can say how much the server spent, and
// whether the load generator itself was the limit. Also a process's resident memory, and
// the whole machine's idle time.

#include <cstdint>
#include <optional>

namespace hearth::load {

std::optional<double> process_cpu_seconds(int pid);
double own_cpu_seconds();
std::optional<std::uint64_t> process_rss_kib(int pid);  // VmRSS from /proc/PID/status

// idle + iowait + steal over every CPU, in seconds, and how many CPUs there are
// (/proc/stat). The busy fields are sampled at each tick and miss short wake-ups; idle is
// measured at every entry and exit, so busy = wall time x CPUs - idle (compare_servers.py).
struct MachineIdle {
    double idle_seconds = 0;
    unsigned cpus = 0;
};
std::optional<MachineIdle> machine_idle();

}  // namespace hearth::load
