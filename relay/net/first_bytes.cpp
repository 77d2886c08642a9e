#include "relay/net/first_bytes.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace hearth::relay {

namespace {

constexpr std::size_t stun_header_prefix = 8;  // type, length, magic cookie
constexpr std::array<std::byte, 4> magic_cookie{std::byte{0x21}, std::byte{0x12}, std::byte{0xA4},
                                                std::byte{0x42}};
constexpr std::uint8_t handshake_record = 22;  // RFC 8446 §5.1 ContentType handshake
constexpr std::uint8_t client_hello = 1;       // RFC 8446 §4 HandshakeType
constexpr std::size_t record_header = 5;
constexpr std::size_t max_record_payload = 16 * 1024;  // RFC 8446 §5.1: 2^14
constexpr std::size_t handshake_header = 4;            // type and a 24-bit length
constexpr std::uint16_t server_name_extension = 0;     // RFC 6066 §3
constexpr std::uint8_t host_name_type = 0;

std::uint8_t byte_at(FirstBytesView bytes, std::size_t at) {
    return static_cast<std::uint8_t>(bytes[at]);
}

// Big-endian fields read off the front of a span, never past its end.
class Cursor {
  public:
    explicit Cursor(FirstBytesView bytes) : bytes_(bytes) {}

    bool number(std::size_t width, std::size_t& value) {
        if (bytes_.size() < width) {
            return false;
        }
        value = 0;
        for (std::size_t i = 0; i < width; ++i) {
            value = value << 8 | byte_at(bytes_, i);
        }
        bytes_ = bytes_.subspan(width);
        return true;
    }
    bool take(std::size_t length, FirstBytesView& part) {
        if (bytes_.size() < length) {
            return false;
        }
        part = bytes_.first(length);
        bytes_ = bytes_.subspan(length);
        return true;
    }
    // A field of `width` length bytes and what they count.
    bool vector(std::size_t width, FirstBytesView& part) {
        std::size_t length = 0;
        return number(width, length) && take(length, part);
    }
    bool empty() const { return bytes_.empty(); }

  private:
    FirstBytesView bytes_;
};

// RFC 6066 §3: a ServerNameList of (name_type, HostName) entries; at most one host_name,
// whose bytes are ASCII and compared case-insensitively.
bool read_host_name(FirstBytesView extension, std::string& host_name) {
    Cursor cursor(extension);
    FirstBytesView list;
    if (!cursor.vector(2, list) || !cursor.empty()) {
        return false;
    }
    Cursor entries(list);
    while (!entries.empty()) {
        std::size_t type = 0;
        FirstBytesView name;
        if (!entries.number(1, type) || !entries.vector(2, name)) {
            return false;
        }
        if (type == host_name_type && host_name.empty()) {
            host_name.reserve(name.size());
            for (const auto byte : name) {
                const auto c = static_cast<char>(byte);
                host_name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
            }
        }
    }
    return true;
}

// RFC 8446 §4.1.2 (TLS 1.2's RFC 5246 §7.4.1.2 has the same shape): version, random,
// session id, cipher suites, compression methods, then extensions, which a TLS 1.2
// ClientHello may leave out.
FirstBytes parse_client_hello(FirstBytesView body) {
    const FirstBytes malformed{FirstBytesKind::malformed, {}};
    Cursor cursor(body);
    FirstBytesView skipped;
    if (!cursor.take(2 + 32, skipped) || !cursor.vector(1, skipped) || !cursor.vector(2, skipped) ||
        !cursor.vector(1, skipped)) {
        return malformed;
    }
    FirstBytes tls{FirstBytesKind::tls, {}};
    if (cursor.empty()) {
        return tls;
    }
    FirstBytesView extensions;
    if (!cursor.vector(2, extensions) || !cursor.empty()) {
        return malformed;
    }
    Cursor each(extensions);
    while (!each.empty()) {
        std::size_t type = 0;
        FirstBytesView data;
        if (!each.number(2, type) || !each.vector(2, data)) {
            return malformed;
        }
        if (type == server_name_extension && !read_host_name(data, tls.server_name)) {
            return malformed;
        }
    }
    return tls;
}

// The ClientHello may be split over several handshake records (RFC 8446 §5.1); its
// fragments are joined in `message` until its length is there.
FirstBytes classify_tls(FirstBytesView received) {
    std::array<std::byte, handshake_header + client_hello_max_size> message;
    std::size_t joined = 0;
    std::size_t at = 0;
    for (;;) {
        if (received.size() - at < record_header) {
            return {FirstBytesKind::need_more, {}};
        }
        const std::size_t length =
            std::size_t{byte_at(received, at + 3)} << 8 | byte_at(received, at + 4);
        if (byte_at(received, at) != handshake_record || byte_at(received, at + 1) != 3 ||
            length == 0 || length > max_record_payload) {
            return {FirstBytesKind::malformed, {}};
        }
        if (at + record_header + length > first_bytes_max_size) {
            return {FirstBytesKind::too_long, {}};
        }
        if (received.size() - at - record_header < length) {
            return {FirstBytesKind::need_more, {}};
        }
        const auto fragment = received.subspan(at + record_header, length);
        const std::size_t copied = std::min(length, message.size() - joined);
        std::copy_n(fragment.begin(), copied, message.begin() + static_cast<long>(joined));
        joined += copied;
        at += record_header + length;
        if (joined < handshake_header) {
            continue;
        }
        if (static_cast<std::uint8_t>(message[0]) != client_hello) {
            return {FirstBytesKind::malformed, {}};
        }
        const std::size_t body = std::size_t{static_cast<std::uint8_t>(message[1])} << 16 |
                                 std::size_t{static_cast<std::uint8_t>(message[2])} << 8 |
                                 static_cast<std::uint8_t>(message[3]);
        if (body > client_hello_max_size) {
            return {FirstBytesKind::too_long, {}};
        }
        if (joined >= handshake_header + body) {
            return parse_client_hello(FirstBytesView(message).subspan(handshake_header, body));
        }
    }
}

}  // namespace

const char* to_string(FirstBytesKind kind) {
    switch (kind) {
        case FirstBytesKind::need_more:
            return "need more";
        case FirstBytesKind::turn:
            return "TURN";
        case FirstBytesKind::tls:
            return "TLS";
        case FirstBytesKind::unknown:
            return "neither TURN nor TLS";
        case FirstBytesKind::malformed:
            return "a malformed TLS ClientHello";
        case FirstBytesKind::too_long:
            return "a ClientHello too long";
    }
    return "?";
}

// RFC 8656 §12 and RFC 7983 §7 tell the first byte apart: 0-3 a STUN message, 64-79
// ChannelData, 22 a TLS handshake record; a STUN header is then known by its magic cookie
// (RFC 8489 §5). ChannelData never opens a connection: it needs a channel bound by that
// connection's allocation (RFC 8656 §12), and every TURN connection starts with a request
// (an Allocate, or ConnectionBind for an RFC 6062 data connection). Refusing it keeps
// plain HTTP out too: GET, HEAD, OPTIONS, CONNECT and DELETE all start in 64-79.
FirstBytes classify_first_bytes(FirstBytesView received) {
    if (received.empty()) {
        return {FirstBytesKind::need_more, {}};
    }
    const auto first = byte_at(received, 0);
    if (first == handshake_record) {
        return classify_tls(received);
    }
    if (first > 3) {
        return {FirstBytesKind::unknown, {}};
    }
    if (received.size() < stun_header_prefix) {
        return {FirstBytesKind::need_more, {}};
    }
    const bool cookie = std::equal(magic_cookie.begin(), magic_cookie.end(), received.begin() + 4);
    return {cookie ? FirstBytesKind::turn : FirstBytesKind::unknown, {}};
}

}  // namespace hearth::relay
