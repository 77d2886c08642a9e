#include "admin/process_figures.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hearth::admin {

namespace {

// The boot time (Unix seconds): /proc/self/stat counts the process's start from it.
std::optional<std::uint64_t> boot_time() {
    std::ifstream stat("/proc/stat");
    std::string key;
    while (stat >> key) {
        if (key == "btime") {
            std::uint64_t seconds = 0;
            stat >> seconds;
            return seconds;
        }
        stat.ignore(4096, '\n');
    }
    return std::nullopt;
}

std::uint64_t open_descriptors() {
    std::uint64_t count = 0;
    std::error_code error;
    for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
         it.increment(error)) {
        ++count;
    }
    return count;
}

}  // namespace

std::optional<ProcessFigures> read_process_figures() {
    std::ifstream stat_file("/proc/self/stat");
    std::string stat;
    std::getline(stat_file, stat);
    // proc(5): "pid (comm) state ..." where comm may hold spaces and parentheses; the
    // fields after the last ')' are numbered from 3 (state).
    const auto close = stat.rfind(')');
    const auto boot = boot_time();
    if (close == std::string::npos || !boot) {
        return std::nullopt;
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0, stime = 0, starttime = 0, rss_pages = 0;
    for (int number = 3; fields >> field && number <= 24; ++number) {
        if (number == 14) {
            utime = std::stoull(field);
        } else if (number == 15) {
            stime = std::stoull(field);
        } else if (number == 22) {
            starttime = std::stoull(field);
        } else if (number == 24) {
            rss_pages = std::stoull(field);
        }
    }
    const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    ProcessFigures figures;
    figures.cpu_seconds = static_cast<double>(utime + stime) / ticks;
    figures.start_time_seconds =
        static_cast<double>(*boot) + static_cast<double>(starttime) / ticks;
    figures.resident_memory_bytes = rss_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    // The directory listing holds its own descriptor while it runs: not the node's.
    figures.open_fds = open_descriptors() - 1;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        figures.max_fds = limit.rlim_cur;
    }
    return figures;
}

}  // namespace hearth::admin
