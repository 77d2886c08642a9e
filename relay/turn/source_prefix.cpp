#include "relay/turn/source_prefix.h"

#include <algorithm>

namespace hearth::turn {

namespace {

// ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
bool is_ipv4_mapped(const IpAddress& address) {
    return std::all_of(address.bytes.begin(), address.bytes.begin() + 10,
                       [](std::uint8_t byte) { return byte == 0; }) &&
           address.bytes[10] == 0xff && address.bytes[11] == 0xff;
}

}  // namespace

IpAddress source_prefix(const IpAddress& source) {
    if (source.family != AddressFamily::ipv6 || is_ipv4_mapped(source)) {
        return source;
    }
    IpAddress prefix = source;
    std::fill(prefix.bytes.begin() + 8, prefix.bytes.end(), std::uint8_t{0});
    return prefix;
}

}  // namespace hearth::turn
