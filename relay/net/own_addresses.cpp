#include "relay/net/own_addresses.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hearth::relay {

namespace {

bool is_wildcard(const IpAddress& address) {
    const auto used = address.bytes.begin() + static_cast<std::ptrdiff_t>(address.size());
    return std::all_of(address.bytes.begin(), used, [](std::uint8_t byte) { return byte == 0; });
}

}  // namespace

std::vector<IpAddress> own_addresses(const config::Config& config,
                                     std::span<const IpAddress> host_addresses) {
    std::vector<IpAddress> own;
    const auto add = [&](const IpAddress& address) {
        if (!is_wildcard(address) && std::ranges::find(own, address) == own.end()) {
            own.push_back(address);
        }
    };
    for (const auto* listeners :
         {&config.listen.udp, &config.listen.tcp, &config.listen.tls, &config.listen.mux}) {
        for (const auto& listener : *listeners) {
            add(listener.ip);
        }
    }
    if (config.admin.listen) {
        add(config.admin.listen->ip);
    }
    // The public addresses of a 1:1 NAT reach this host too.
    for (const auto& relay : {config.relay.ipv4, config.relay.ipv6, config.relay.external_ipv4,
                              config.relay.external_ipv6}) {
        if (relay) {
            add(*relay);
        }
    }
    // Every address of the host, whatever the listeners bind: the services beside hearthd
    // (sshd, a metrics agent, Redis) listen on them too, and a listener bound to one address
    // says nothing about what listens on the others.
    for (const auto& address : host_addresses) {
        add(address);
    }
    return own;
}

std::vector<std::uint16_t> service_ports(const config::Config& config) {
    std::vector<std::uint16_t> ports;
    const auto add = [&ports](std::uint16_t port) {
        if (std::ranges::find(ports, port) == ports.end()) {
            ports.push_back(port);
        }
    };
    for (const auto* listeners :
         {&config.listen.udp, &config.listen.tcp, &config.listen.tls, &config.listen.mux}) {
        for (const auto& listener : *listeners) {
            add(listener.port);
        }
    }
    if (config.admin.listen) {
        add(config.admin.listen->port);
    }
    // Redis holds the sessions and secrets: it trusts whoever reaches it, often on loopback.
    if (config.session_store.kind == config::StoreKind::redis) {
        add(config.session_store.redis.port);
    }
    return ports;
}

std::vector<std::uint16_t> tcp_denied_ports(const config::Config& config) {
    auto denied = config.relay.tcp_denied_ports;
    if (config.admin.listen &&
        std::ranges::find(denied, config.admin.listen->port) == denied.end()) {
        denied.push_back(config.admin.listen->port);
    }
    return denied;
}

std::vector<IpAddress> host_addresses() {
    std::vector<IpAddress> addresses;
    ifaddrs* interfaces = nullptr;
    if (getifaddrs(&interfaces) != 0) {
        // Said loudly: with wildcard listeners the peer policy would not know the host's
        // own addresses (a sandbox without AF_NETLINK fails here).
        spdlog::error(
            "cannot list this host's addresses (getifaddrs: {}): the peer policy "
            "refuses only the addresses the config names",
            std::strerror(errno));
        return addresses;
    }
    for (const ifaddrs* entry = interfaces; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr) {
            continue;
        }
        const int family = entry->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) {
            continue;
        }
        const auto length =
            static_cast<socklen_t>(family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        if (const auto address = TransportAddress::from_sockaddr(entry->ifa_addr, length)) {
            addresses.push_back(address->ip);
        }
    }
    freeifaddrs(interfaces);
    return addresses;
}

}  // namespace hearth::relay
