#pragma once

// What a connection to a multiplexing listener (`listen.mux`, typically port 443) is,
// told from its first bytes: TURN over plain TCP (a STUN request first, RFC 8656 §3.1), or
// TLS, with the host name its ClientHello asks for (RFC 6066 §3), which decides
// between TURN over TLS and another service the port is shared with. Pure functions on the
// bytes received so far: no sockets, no clock; the listener does the reading.

#include <cstddef>
#include <span>
#include <string>

namespace hearth::relay {

using FirstBytesView = std::span<const std::byte>;

// A ClientHello is read whole, over as many TLS records as it was split into, up to this
// much: browsers send 0.5 to 2 KiB (more with post-quantum key shares), and the
// connection's buffer stays bounded.
inline constexpr std::size_t client_hello_max_size = 16 * 1024;
// The most a reader ever holds to decide: the ClientHello and its record headers, split
// into records of at least 1 KiB each.
inline constexpr std::size_t first_bytes_max_size = client_hello_max_size * 5 / 4;

enum class FirstBytesKind {
    need_more,
    turn,       // a STUN header with the magic cookie
    tls,        // a TLS ClientHello, parsed whole
    unknown,    // neither: HTTP, SSH, ChannelData (which cannot come first), noise
    malformed,  // starts as a TLS handshake record, then breaks its rules
    too_long,   // a ClientHello past client_hello_max_size, or records too small to hold it
};
const char* to_string(FirstBytesKind kind);

struct FirstBytes {
    FirstBytesKind kind = FirstBytesKind::need_more;
    // tls only: the host_name of the server_name extension, lower-cased; empty when the
    // ClientHello names none (as Firefox's does for a TURN server given by IP address).
    std::string server_name;
};

// Decides from the start of the stream; never reads past `received`.
FirstBytes classify_first_bytes(FirstBytesView received);

}  // namespace hearth::relay
