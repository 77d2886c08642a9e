#include "relay/daemon/fast_path_start.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hearth::relay {

namespace {

std::optional<IpAddress> address_of(const sockaddr* address) {
    if (address == nullptr || (address->sa_family != AF_INET && address->sa_family != AF_INET6)) {
        return std::nullopt;
    }
    const socklen_t length =
        address->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    const auto transport = TransportAddress::from_sockaddr(address, length);
    return transport ? std::optional(transport->ip) : std::nullopt;
}

// "auto": the interfaces that hold relay.ipv4 and relay.ipv6, where peers' datagrams to
// the relayed addresses arrive. Clients may arrive on others; list those by name.
std::set<std::string> interfaces_carrying_relays(const config::Config& config, std::string& error) {
    std::set<std::string> found;
    ifaddrs* interfaces = nullptr;
    if (getifaddrs(&interfaces) != 0) {
        error = std::string("cannot list interfaces (getifaddrs: ") + std::strerror(errno) + ")";
        return found;
    }
    for (const ifaddrs* entry = interfaces; entry != nullptr; entry = entry->ifa_next) {
        const auto address = address_of(entry->ifa_addr);
        if (address && (address == config.relay.ipv4 || address == config.relay.ipv6)) {
            found.insert(entry->ifa_name);
        }
    }
    freeifaddrs(interfaces);
    if (found.empty()) {
        error = "no interface holds relay.ipv4 or relay.ipv6 (\"auto\")";
    }
    return found;
}

std::set<std::string> interfaces_named(const config::Config& config, std::string& error) {
    std::set<std::string> names;
    for (const auto& name : config.fast_path.interfaces) {
        if (name == "auto") {
            names.merge(interfaces_carrying_relays(config, error));
        } else {
            names.insert(name);
        }
    }
    return names;
}

// The program finds each datagram's way out with bpf_fib_lookup, which the kernel answers
// only for interfaces that forward (else BPF_FIB_LKUP_RET_FWD_DISABLED): on one that does
// not, every datagram goes to userspace (outcome passed_no_route). Said once, at start.
void warn_if_not_forwarding(const config::Config& config, const std::string& name) {
    const auto forwarding = [&name](const char* family) {
        std::ifstream file(std::string("/proc/sys/net/") + family + "/conf/" + name +
                           "/forwarding");
        int value = 0;
        return file >> value && value != 0;
    };
    for (const auto& [family, relay] : {std::pair{"ipv4", config.relay.ipv4.has_value()},
                                        std::pair{"ipv6", config.relay.ipv6.has_value()}}) {
        if (relay && !forwarding(family)) {
            spdlog::warn(
                "fast path: {} forwarding is off on {}, so the kernel answers none of the "
                "program's route lookups and nothing is carried there over {} (set "
                "net.{}.conf.{}.forwarding=1, with a firewall that drops forwarded packets; "
                "README \"Kernel fast path\")",
                family, name, family, family, name);
        }
    }
}

}  // namespace

std::unique_ptr<xdp::FastPathProgram> start_fast_path(const config::Config& config,
                                                      unsigned workers) {
    if (config.fast_path.interfaces.empty()) {
        return nullptr;
    }
    const auto refuse = [](const std::string& why) {
        spdlog::warn("fast path off, relaying in userspace: {}", why);
        return nullptr;
    };
    std::string error;
    const auto names = interfaces_named(config, error);
    if (!error.empty()) {
        return refuse(error);
    }
    auto program = xdp::FastPathProgram::load(workers, error);
    if (!program) {
        return refuse(error);
    }
    const auto mode = config.fast_path.mode == config::FastPathMode::generic
                          ? xdp::AttachMode::generic
                          : xdp::AttachMode::native;
    std::string attached;
    for (const auto& name : names) {
        const unsigned index = if_nametoindex(name.c_str());
        if (index == 0) {
            return refuse("no interface " + name);
        }
        if (!program->attach(static_cast<int>(index), mode, error)) {
            return refuse("cannot attach to " + name + ": " + error);  // detaches the others
        }
        attached += (attached.empty() ? "" : ", ") + name;
        warn_if_not_forwarding(config, name);
    }
    spdlog::info("fast path on: XDP ({}) on {}", config::to_string(config.fast_path.mode),
                 attached);
    return program;
}

}  // namespace hearth::relay
