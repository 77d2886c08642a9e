#include "relay/turn/source_prefix.h"

#include <algorithm>

#include "relay/turn/peer_policy.h"

namespace hearth::turn {

IpAddress source_prefix(const IpAddress& source) {
    // An IPv6 address that carries an IPv4 one (a dual-stack socket's mapped form, a
    // NAT64 translation) stands for that IPv4 host, not for a subscriber's /64.
    if (source.family != AddressFamily::ipv6 || PeerPolicy::embedded_ipv4(source)) {
        return source;
    }
    IpAddress prefix = source;
    std::fill(prefix.bytes.begin() + 8, prefix.bytes.end(), std::uint8_t{0});
    return prefix;
}

}  // namespace hearth::turn
