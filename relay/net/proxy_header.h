#pragma once

// The PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2) that a load
// balancer in TCP mode sends first on each connection it opens to hearth, naming the
// client it accepted. Pure functions on the bytes received so far: no sockets, no clock;
// proxy_header_reader.h does the reading, and only from trusted addresses.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

using ProxyHeaderBytes = std::span<const std::byte>;

// §2.1: a version 1 line is at most 107 bytes, CRLF included.
inline constexpr std::size_t proxy_v1_max_size = 107;
// §2.2: a version 2 header is 16 bytes and `len` more (addresses, then TLVs). The spec
// allows 64 KiB; a load balancer sends well under this (haproxy's own TLVs, an AWS VPC
// endpoint id), and a connection's buffer stays bounded.
inline constexpr std::size_t proxy_v2_max_size = 4096;
// The most a reader ever needs to hold to decide.
inline constexpr std::size_t proxy_header_max_size = proxy_v2_max_size;

struct ProxyHeader {
    int version = 1;
    // The client and the address it connected to, as the proxy saw them. Nullopt when the
    // header carries none: v1 UNKNOWN, v2 LOCAL (the proxy's own health check), v2 UNSPEC
    // or UNIX families. The connection's own addresses stand then (§2.1, §2.2).
    std::optional<TransportAddress> source;
    std::optional<TransportAddress> destination;
    std::size_t size = 0;  // bytes the header takes on the stream, TLVs included
};

struct ProxyHeaderNeedMore {};

enum class ProxyHeaderError {
    not_proxy_header,  // starts with neither the v1 nor the v2 signature
    malformed,         // a signature, then something the spec does not allow
    too_long,          // no CRLF within 107 bytes, or a v2 length past proxy_v2_max_size
};
const char* to_string(ProxyHeaderError error);

using ProxyHeaderResult = std::variant<ProxyHeader, ProxyHeaderNeedMore, ProxyHeaderError>;

// Looks at the start of the stream: the header and its size, more bytes needed, or why
// it is not one. Never reads past `received`, and decides by proxy_header_max_size bytes.
ProxyHeaderResult parse_proxy_header(ProxyHeaderBytes received);

// Whether `received` begins with (a prefix of) either signature: what a client that is
// not a trusted proxy must not be believed for.
bool looks_like_proxy_header(ProxyHeaderBytes received);

}  // namespace hearth::relay
