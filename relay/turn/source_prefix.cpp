#include "relay/turn/source_prefix.h"

#include <algorithm>

#include "relay/turn/peer_policy.h"

namespace hearth::turn {

IpAddress source_prefix(const IpAddress& source) {
    if (source.family != AddressFamily::ipv6) {
        return source;
    }
    // An IPv6 address that carries an IPv4 one (a dual-stack socket's mapped form, a NAT64
    // translation, a 6to4 /48, a Teredo client) stands for that IPv4 host, not for a
    // subscriber's /64: 2002:c633:6401::/48 is all one holder of 198.51.100.1, and keying on
    // its 128 (or 64) bits would give that holder 2^80 (or 2^16) sources.
    if (const auto ipv4 = PeerPolicy::ipv4_host_of(source)) {
        return *ipv4;
    }
    IpAddress prefix = source;
    std::fill(prefix.bytes.begin() + 8, prefix.bytes.end(), std::uint8_t{0});
    return prefix;
}

}  // namespace hearth::turn
