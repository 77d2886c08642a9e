#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hearth {

// RFC 8489 §14.1 family codes, reused as the in-memory tag.
enum class AddressFamily : std::uint8_t { ipv4 = 0x01, ipv6 = 0x02 };

// An IP address of either family. IPv4 uses the first four bytes of `bytes`.
struct IpAddress {
    AddressFamily family = AddressFamily::ipv4;
    std::array<std::uint8_t, 16> bytes{};

    static IpAddress v4(std::uint32_t host_order);
    static IpAddress v6(const std::array<std::uint8_t, 16>& network_order);
    static std::optional<IpAddress> parse(std::string_view text);

    std::size_t size() const { return family == AddressFamily::ipv4 ? 4 : 16; }
    std::string to_string() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// An IP address and a port: one end of a 5-tuple (RFC 8656 §2).
struct TransportAddress {
    IpAddress ip;
    std::uint16_t port = 0;

    static std::optional<TransportAddress> from_sockaddr(const sockaddr* address, socklen_t length);
    static std::optional<TransportAddress> parse(std::string_view text);  // "1.2.3.4:5", "[::1]:5"
    // Writes a sockaddr_in or sockaddr_in6 and returns its length.
    socklen_t to_sockaddr(sockaddr_storage& out) const;
    std::string to_string() const;
    friend bool operator==(const TransportAddress&, const TransportAddress&) = default;
};

struct TransportAddressHash {
    std::size_t operator()(const TransportAddress& address) const noexcept;
};

}  // namespace hearth
