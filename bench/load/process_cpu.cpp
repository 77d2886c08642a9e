#include "bench/load/process_cpu.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace hearth::load {

std::optional<double> process_cpu_seconds(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) {
        return std::nullopt;
    }
    // proc(5): the command name is in parentheses and may hold spaces; fields 14 and 15
    // (utime, stime, in clock ticks) follow the closing one.
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) {
            utime = std::stoull(field);
        } else if (index == 15) {
            stime = std::stoull(field);
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<std::uint64_t> process_rss_kib(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) {
            return std::stoull(line.substr(6));
        }
    }
    return std::nullopt;
}

std::optional<MachineIdle> machine_idle() {
    std::ifstream stat("/proc/stat");
    std::string line;
    MachineIdle machine;
    bool total = false;
    while (std::getline(stat, line) && line.starts_with("cpu")) {
        if (line.size() > 3 && line[3] == ' ') {
            // proc(5): cpu user nice system idle iowait irq softirq steal ...
            std::istringstream fields(line.substr(3));
            unsigned long long value[8] = {};
            for (auto& field : value) {
                fields >> field;
            }
            const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
            machine.idle_seconds = static_cast<double>(value[3] + value[4] + value[7]) / ticks;
            total = static_cast<bool>(fields);
        } else {
            ++machine.cpus;
        }
    }
    if (!total || machine.cpus == 0) {
        return std::nullopt;
    }
    return machine;
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& time) {
        return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace hearth::load
