#include "relay/net/proxy_header.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

namespace hearth::relay {

namespace {

constexpr std::string_view v1_signature = "PROXY ";
// §2.2: the twelve bytes no v1 line, HTTP request or TLS record can start with.
constexpr std::array<std::uint8_t, 12> v2_signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t v2_fixed_size = 16;

// Whether the first min(received, signature) bytes agree with `signature`.
bool begins_like(ProxyHeaderBytes received, const std::uint8_t* signature, std::size_t length) {
    const std::size_t n = std::min(received.size(), length);
    return n > 0 && std::memcmp(received.data(), signature, n) == 0;
}

bool begins_like_v1(ProxyHeaderBytes received) {
    return begins_like(received, reinterpret_cast<const std::uint8_t*>(v1_signature.data()),
                       v1_signature.size());
}

bool begins_like_v2(ProxyHeaderBytes received) {
    return begins_like(received, v2_signature.data(), v2_signature.size());
}

// §2.1: a port is a decimal number 0..65535. A leading zero is refused: no sender writes
// one, and one spelling per port keeps the parser simple to reason about.
std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// Splits `line` at single spaces into exactly `fields.size()` fields, none empty.
template <std::size_t N>
bool split_fields(std::string_view line, std::array<std::string_view, N>& fields) {
    for (std::size_t i = 0; i < N; ++i) {
        const auto space = line.find(' ');
        const bool last = i + 1 == N;
        if (last != (space == std::string_view::npos)) {
            return false;
        }
        fields[i] = line.substr(0, space);
        if (fields[i].empty()) {
            return false;
        }
        line = last ? std::string_view{} : line.substr(space + 1);
    }
    return true;
}

// §2.1: "PROXY" SP ("TCP4" | "TCP6") SP source SP destination SP sport SP dport CRLF, or
// "PROXY UNKNOWN" and anything up to the CRLF, which the receiver ignores.
ProxyHeaderResult parse_v1(ProxyHeaderBytes received) {
    const std::string_view text(reinterpret_cast<const char*>(received.data()),
                                std::min(received.size(), proxy_v1_max_size));
    const auto end = text.find("\r\n");
    if (end == std::string_view::npos) {
        if (text.size() >= proxy_v1_max_size) {
            return ProxyHeaderError::too_long;
        }
        // A bare LF, a NUL, or a CR with something else than LF after it cannot become a
        // valid line with more bytes; only a CR at the very end may still be one.
        const auto first_cr = text.find('\r');
        if (text.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos ||
            (first_cr != std::string_view::npos && first_cr + 1 != text.size())) {
            return ProxyHeaderError::malformed;
        }
        return ProxyHeaderNeedMore{};
    }
    // The same refusal as above, whether the CRLF came in the same read or a later one.
    if (text.substr(0, end).find_first_of(std::string_view("\r\n\0", 3)) !=
        std::string_view::npos) {
        return ProxyHeaderError::malformed;
    }
    const std::string_view line = text.substr(v1_signature.size(), end - v1_signature.size());
    ProxyHeader header;
    header.version = 1;
    header.size = end + 2;
    if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) {
        return header;
    }
    std::array<std::string_view, 5> fields;
    if (!split_fields(line, fields) || (fields[0] != "TCP4" && fields[0] != "TCP6")) {
        return ProxyHeaderError::malformed;
    }
    const auto family = fields[0] == "TCP4" ? AddressFamily::ipv4 : AddressFamily::ipv6;
    const auto source = IpAddress::parse(fields[1]);
    const auto destination = IpAddress::parse(fields[2]);
    const auto source_port = parse_port(fields[3]);
    const auto destination_port = parse_port(fields[4]);
    if (!source || !destination || !source_port || !destination_port || source->family != family ||
        destination->family != family) {
        return ProxyHeaderError::malformed;
    }
    header.source = TransportAddress{*source, *source_port};
    header.destination = TransportAddress{*destination, *destination_port};
    return header;
}

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

TransportAddress read_address(const std::byte* address, const std::byte* port,
                              AddressFamily family) {
    TransportAddress out;
    out.ip.family = family;
    std::memcpy(out.ip.bytes.data(), address, family == AddressFamily::ipv4 ? 4 : 16);
    out.port = read_u16(port);
    return out;
}

// §2.2: the addresses of an AF_INET or AF_INET6 header; the TLVs after them are skipped
// (§2.2.x: a receiver may ignore every TLV it does not use).
bool read_v2_addresses(ProxyHeaderBytes block, std::uint8_t family, ProxyHeader& header) {
    const bool v4 = family == 0x1;
    const std::size_t address_size = v4 ? 4 : 16;
    if (block.size() < 2 * address_size + 4) {
        return false;  // the length must cover the address block of the family it names
    }
    const auto ip_family = v4 ? AddressFamily::ipv4 : AddressFamily::ipv6;
    const std::byte* ports = block.data() + 2 * address_size;
    header.source = read_address(block.data(), ports, ip_family);
    header.destination = read_address(block.data() + address_size, ports + 2, ip_family);
    return true;
}

// §2.2: signature, version and command, family and transport, length, then `length`
// bytes of addresses and TLVs.
ProxyHeaderResult parse_v2(ProxyHeaderBytes received) {
    if (received.size() < v2_fixed_size) {
        return ProxyHeaderNeedMore{};
    }
    const auto version_command = std::to_integer<std::uint8_t>(received[12]);
    const auto family_transport = std::to_integer<std::uint8_t>(received[13]);
    const std::size_t size = v2_fixed_size + read_u16(received.data() + 14);
    const std::uint8_t command = version_command & 0x0F;
    const std::uint8_t family = family_transport >> 4;
    const std::uint8_t transport = family_transport & 0x0F;
    // Version 2 only; commands LOCAL (0) and PROXY (1); families UNSPEC, INET, INET6,
    // UNIX (0-3); the receiver must drop anything else. A DGRAM transport (2) has no
    // place on a stream listener.
    if ((version_command >> 4) != 0x2 || command > 0x1 || family > 0x3 || transport > 0x1) {
        return ProxyHeaderError::malformed;
    }
    if (size > proxy_v2_max_size) {
        return ProxyHeaderError::too_long;
    }
    if (received.size() < size) {
        return ProxyHeaderNeedMore{};
    }
    ProxyHeader header;
    header.version = 2;
    header.size = size;
    // LOCAL: the proxy speaks for itself (a health check) and the connection's addresses
    // stand, whatever the block holds; UNSPEC and UNIX carry no IP address either.
    if (command == 0x0 || (family != 0x1 && family != 0x2)) {
        return header;
    }
    if (!read_v2_addresses(received.subspan(v2_fixed_size, size - v2_fixed_size), family, header)) {
        return ProxyHeaderError::malformed;
    }
    return header;
}

}  // namespace

const char* to_string(ProxyHeaderError error) {
    switch (error) {
        case ProxyHeaderError::not_proxy_header:
            return "missing";
        case ProxyHeaderError::malformed:
            return "malformed";
        case ProxyHeaderError::too_long:
            return "too_long";
    }
    return "malformed";
}

ProxyHeaderResult parse_proxy_header(ProxyHeaderBytes received) {
    if (received.empty()) {
        return ProxyHeaderNeedMore{};
    }
    if (begins_like_v2(received)) {
        return received.size() < v2_signature.size() ? ProxyHeaderResult{ProxyHeaderNeedMore{}}
                                                     : parse_v2(received);
    }
    if (begins_like_v1(received)) {
        return received.size() < v1_signature.size() ? ProxyHeaderResult{ProxyHeaderNeedMore{}}
                                                     : parse_v1(received);
    }
    return ProxyHeaderError::not_proxy_header;
}

bool looks_like_proxy_header(ProxyHeaderBytes received) {
    return begins_like_v1(received) || begins_like_v2(received);
}

}  // namespace hearth::relay
