#include "relay/stun/transport_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace hearth {

IpAddress IpAddress::v4(std::uint32_t host_order) {
    IpAddress address;
    address.family = AddressFamily::ipv4;
    address.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
    address.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
    address.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
    address.bytes[3] = static_cast<std::uint8_t>(host_order);
    return address;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& network_order) {
    IpAddress address;
    address.family = AddressFamily::ipv6;
    address.bytes = network_order;
    return address;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // inet_pton reads a C string: an embedded NUL would silently cut the text short.
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
        text.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    char buffer[INET6_ADDRSTRLEN] = {};
    std::memcpy(buffer, text.data(), text.size());
    IpAddress address;
    if (inet_pton(AF_INET, buffer, address.bytes.data()) == 1) {
        address.family = AddressFamily::ipv4;
        return address;
    }
    if (inet_pton(AF_INET6, buffer, address.bytes.data()) == 1) {
        address.family = AddressFamily::ipv6;
        return address;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == AddressFamily::ipv4 ? AF_INET : AF_INET6, bytes.data(), buffer,
              sizeof buffer);
    return buffer;
}

std::optional<TransportAddress> TransportAddress::from_sockaddr(const sockaddr* address,
                                                                socklen_t length) {
    TransportAddress result;
    if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        result.ip.family = AddressFamily::ipv4;
        std::memcpy(result.ip.bytes.data(), &v4->sin_addr, 4);
        result.port = ntohs(v4->sin_port);
        return result;
    }
    if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
        result.ip.family = AddressFamily::ipv6;
        std::memcpy(result.ip.bytes.data(), &v6->sin6_addr, 16);
        result.port = ntohs(v6->sin6_port);
        return result;
    }
    return std::nullopt;
}

std::optional<TransportAddress> TransportAddress::parse(std::string_view text) {
    std::string_view host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    if (port_text.empty() || port_text.size() > 5) {
        return std::nullopt;
    }
    unsigned port = 0;
    for (char c : port_text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        port = port * 10 + static_cast<unsigned>(c - '0');
    }
    const auto ip = IpAddress::parse(host);
    if (!ip || port > 65535) {
        return std::nullopt;
    }
    return TransportAddress{*ip, static_cast<std::uint16_t>(port)};
}

socklen_t TransportAddress::to_sockaddr(sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    if (ip.family == AddressFamily::ipv4) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        std::memcpy(&v4->sin_addr, ip.bytes.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    std::memcpy(&v6->sin6_addr, ip.bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

std::string TransportAddress::to_string() const {
    // Appended in order rather than `"[" + ip.to_string() + ...`: at -O3, GCC 12 inlines
    // that prepend and reports a bogus -Wrestrict overlap, fatal under -Werror (Release).
    std::string text;
    text.reserve(INET6_ADDRSTRLEN + 8);
    if (ip.family == AddressFamily::ipv6) {
        text += '[';
    }
    text += ip.to_string();
    if (ip.family == AddressFamily::ipv6) {
        text += ']';
    }
    text += ':';
    text += std::to_string(port);
    return text;
}

std::size_t TransportAddressHash::operator()(const TransportAddress& address) const noexcept {
    // FNV-1a over the significant bytes: cheap and good enough for a per-worker table.
    std::uint64_t hash = 1469598103934665603ull;
    auto mix = [&hash](std::uint8_t byte) {
        hash ^= byte;
        hash *= 1099511628211ull;
    };
    for (std::size_t i = 0; i < address.ip.size(); ++i) {
        mix(address.ip.bytes[i]);
    }
    mix(static_cast<std::uint8_t>(address.port >> 8));
    mix(static_cast<std::uint8_t>(address.port));
    mix(static_cast<std::uint8_t>(address.ip.family));
    return static_cast<std::size_t>(hash);
}

}  // namespace hearth
