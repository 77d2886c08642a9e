#include "relay/turn/peer_policy.h"

#include <algorithm>
#include <array>
#include <utility>

namespace hearth::turn {

namespace {

struct RefusedRange {
    AddressRange range;
    PeerRefusal refusal;
};

// Where an IPv6 form keeps an IPv4 address: the range that marks the form, the offset of
// the four IPv4 bytes inside the IPv6 address, whether they are stored inverted, and
// whether a packet sent to the IPv6 address goes to the IPv4 one (what the peer checks
// need) or the IPv4 address only names the host behind it (what per-source limits need).
struct EmbeddingForm {
    AddressRange range;
    std::size_t ipv4_offset;
    bool inverted = false;
    bool reaches_ipv4 = true;
};

constexpr AddressRange v4_range(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                                std::uint8_t prefix_length) {
    IpAddress network;
    network.family = AddressFamily::ipv4;
    network.bytes = {a, b, c, d};
    return AddressRange{network, prefix_length};
}

// Written as the eight 16-bit groups of the textual form, so the table reads like the RFCs.
constexpr AddressRange v6_range(std::array<std::uint16_t, 8> groups, std::uint8_t prefix_length) {
    IpAddress network;
    network.family = AddressFamily::ipv6;
    for (std::size_t group = 0; group < groups.size(); ++group) {
        network.bytes[group * 2] = static_cast<std::uint8_t>(groups[group] >> 8);
        network.bytes[group * 2 + 1] = static_cast<std::uint8_t>(groups[group]);
    }
    return AddressRange{network, prefix_length};
}

// First match wins, so a specific reason (metadata, broadcast) sits above the range that
// contains it. Sources: RFC 6890 and the IANA special-purpose address registries.
constexpr std::array ipv4_refused{
    RefusedRange{v4_range(255, 255, 255, 255, 32), PeerRefusal::broadcast},  // RFC 919
    // The cloud metadata service hands out instance credentials to whoever asks.
    RefusedRange{v4_range(169, 254, 169, 254, 32), PeerRefusal::metadata},
    // Azure's platform address (WireServer, DNS, health probes): a public address that only
    // the VM reaches, and that serves it its extension settings and certificates.
    RefusedRange{v4_range(168, 63, 129, 16, 32), PeerRefusal::metadata},
    // Alibaba Cloud's metadata service, inside the CGNAT range below: named for what it is.
    RefusedRange{v4_range(100, 100, 100, 200, 32), PeerRefusal::metadata},
    RefusedRange{v4_range(0, 0, 0, 0, 8), PeerRefusal::unspecified},     // "this network"; Linux
                                                                         // delivers 0.0.0.0 locally
    RefusedRange{v4_range(10, 0, 0, 0, 8), PeerRefusal::private_range},  // RFC 1918
    RefusedRange{v4_range(100, 64, 0, 0, 10), PeerRefusal::cgnat},       // RFC 6598
    RefusedRange{v4_range(127, 0, 0, 0, 8), PeerRefusal::loopback},      // RFC 1122
    RefusedRange{v4_range(169, 254, 0, 0, 16), PeerRefusal::link_local},     // RFC 3927
    RefusedRange{v4_range(172, 16, 0, 0, 12), PeerRefusal::private_range},   // RFC 1918
    RefusedRange{v4_range(192, 0, 0, 0, 24), PeerRefusal::reserved},         // RFC 6890
    RefusedRange{v4_range(192, 0, 2, 0, 24), PeerRefusal::reserved},         // RFC 5737
    RefusedRange{v4_range(192, 88, 99, 0, 24), PeerRefusal::reserved},       // RFC 7526 6to4 relay
    RefusedRange{v4_range(192, 168, 0, 0, 16), PeerRefusal::private_range},  // RFC 1918
    RefusedRange{v4_range(198, 18, 0, 0, 15), PeerRefusal::reserved},        // RFC 2544
    RefusedRange{v4_range(198, 51, 100, 0, 24), PeerRefusal::reserved},      // RFC 5737
    RefusedRange{v4_range(203, 0, 113, 0, 24), PeerRefusal::reserved},       // RFC 5737
    RefusedRange{v4_range(224, 0, 0, 0, 4), PeerRefusal::multicast},         // RFC 5771
    RefusedRange{v4_range(240, 0, 0, 0, 4), PeerRefusal::reserved},          // RFC 1112
};

constexpr std::array ipv6_refused{
    RefusedRange{v6_range({0, 0, 0, 0, 0, 0, 0, 0}, 128), PeerRefusal::unspecified},  // RFC 4291
    RefusedRange{v6_range({0, 0, 0, 0, 0, 0, 0, 1}, 128), PeerRefusal::loopback},     // RFC 4291
    // AWS (Nitro) and Google Cloud IPv6 metadata services.
    RefusedRange{v6_range({0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254}, 128), PeerRefusal::metadata},
    RefusedRange{v6_range({0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254}, 128), PeerRefusal::metadata},
    RefusedRange{v6_range({0xfe80, 0, 0, 0, 0, 0, 0, 0}, 10), PeerRefusal::link_local},   // 4291
    RefusedRange{v6_range({0xfc00, 0, 0, 0, 0, 0, 0, 0}, 7), PeerRefusal::unique_local},  // 4193
    RefusedRange{v6_range({0xff00, 0, 0, 0, 0, 0, 0, 0}, 8), PeerRefusal::multicast},     // 4291
    RefusedRange{v6_range({0x100, 0, 0, 0, 0, 0, 0, 0}, 64), PeerRefusal::reserved},  // RFC 6666
    // Teredo (RFC 4380) hides its IPv4 endpoints behind a server and an obfuscated client
    // address; there is no single IPv4 to vet, so it is refused outright.
    RefusedRange{v6_range({0x2001, 0, 0, 0, 0, 0, 0, 0}, 32), PeerRefusal::embedded_ipv4},
    RefusedRange{v6_range({0x2001, 0x2, 0, 0, 0, 0, 0, 0}, 48), PeerRefusal::reserved},    // 5180
    RefusedRange{v6_range({0x2001, 0xdb8, 0, 0, 0, 0, 0, 0}, 32), PeerRefusal::reserved},  // 3849
    RefusedRange{v6_range({0x3fff, 0, 0, 0, 0, 0, 0, 0}, 20), PeerRefusal::reserved},  // RFC 9637
};

// Forms whose IPv4 part the kernel, a NAT64 or a 6to4 relay would actually reach: the
// IPv4 rules must hold for it, or ::ffff:127.0.0.1 would be a way round them.
constexpr std::array embedding_forms{
    EmbeddingForm{v6_range({0, 0, 0, 0, 0, 0xffff, 0, 0}, 96), 12},  // mapped, RFC 4291 §2.5.5.2
    EmbeddingForm{v6_range({0, 0, 0, 0, 0xffff, 0, 0, 0}, 96), 12},  // translated, RFC 6052 §2.1
    EmbeddingForm{v6_range({0x64, 0xff9b, 0, 0, 0, 0, 0, 0}, 96), 12},  // NAT64, RFC 6052 §2.1
    // The local-use NAT64 prefix (RFC 8215) in its /96 layout; other layouts are refused
    // below because the IPv4 could sit at any RFC 6052 §2.2 offset.
    EmbeddingForm{v6_range({0x64, 0xff9b, 1, 0, 0, 0, 0, 0}, 96), 12},
    EmbeddingForm{v6_range({0x2002, 0, 0, 0, 0, 0, 0, 0}, 16), 2},  // 6to4, RFC 3056 §2
    EmbeddingForm{v6_range({0, 0, 0, 0, 0, 0, 0, 0}, 96), 12},  // compatible, RFC 4291 §2.5.5.1
    // Teredo (RFC 4380 §4): the client's public IPv4 address, every bit inverted, in the last
    // 32 bits. It names the client's host; as a peer Teredo is refused outright (above).
    EmbeddingForm{v6_range({0x2001, 0, 0, 0, 0, 0, 0, 0}, 32), 12, true, false},
};

// Addresses the kernel delivers to this host whatever its interfaces say: all of
// 127.0.0.0/8 (not only 127.0.0.1), ::1, and the unspecified address, which Linux takes
// as this host.
constexpr std::array this_host{
    v4_range(127, 0, 0, 0, 8),
    v4_range(0, 0, 0, 0, 32),
    v6_range({0, 0, 0, 0, 0, 0, 0, 1}, 128),
    v6_range({0, 0, 0, 0, 0, 0, 0, 0}, 128),
};

constexpr AddressRange local_use_nat64 = v6_range({0x64, 0xff9b, 1, 0, 0, 0, 0, 0}, 48);
// IANA has allocated only 2000::/3 for global unicast; the rest of the space is reserved.
constexpr AddressRange global_unicast = v6_range({0x2000, 0, 0, 0, 0, 0, 0, 0}, 3);

template <std::size_t count>
PeerRefusal first_refusal(const std::array<RefusedRange, count>& table, const IpAddress& peer) {
    for (const auto& entry : table) {
        if (entry.range.contains(peer)) {
            return entry.refusal;
        }
    }
    return PeerRefusal::none;
}

}  // namespace

const char* to_string(PeerRefusal refusal) {
    switch (refusal) {
        case PeerRefusal::none:
            return "none";
        case PeerRefusal::loopback:
            return "loopback";
        case PeerRefusal::private_range:
            return "private_range";
        case PeerRefusal::link_local:
            return "link_local";
        case PeerRefusal::cgnat:
            return "cgnat";
        case PeerRefusal::multicast:
            return "multicast";
        case PeerRefusal::broadcast:
            return "broadcast";
        case PeerRefusal::unspecified:
            return "unspecified";
        case PeerRefusal::unique_local:
            return "unique_local";
        case PeerRefusal::metadata:
            return "metadata";
        case PeerRefusal::reserved:
            return "reserved";
        case PeerRefusal::embedded_ipv4:
            return "embedded_ipv4";
        case PeerRefusal::relay_self:
            return "relay_self";
        case PeerRefusal::relay_service:
            return "relay_service";
    }
    return "unknown";
}

PeerPolicy::PeerPolicy(std::vector<AddressRange> allow) : allow_(std::move(allow)) {}

void PeerPolicy::add_own_address(const IpAddress& address) {
    // A dual-stack socket reports its IPv4 address in the mapped form; keep both spellings.
    const auto embedded = embedded_ipv4(address);
    for (const auto& spelling : {std::optional<IpAddress>(address), embedded}) {
        if (spelling && !is_own_address(*spelling)) {
            own_addresses_.push_back(*spelling);
        }
    }
}

namespace {

std::optional<IpAddress> carried_ipv4(const IpAddress& address, bool reached_only) {
    if (address.family != AddressFamily::ipv6) {
        return std::nullopt;
    }
    for (const auto& form : embedding_forms) {
        if (!form.range.contains(address) || (reached_only && !form.reaches_ipv4)) {
            continue;
        }
        IpAddress ipv4;
        ipv4.family = AddressFamily::ipv4;
        const auto first = address.bytes.begin() + static_cast<std::ptrdiff_t>(form.ipv4_offset);
        std::transform(first, first + 4, ipv4.bytes.begin(), [&form](std::uint8_t byte) {
            return form.inverted ? static_cast<std::uint8_t>(~byte) : byte;
        });
        return ipv4;
    }
    return std::nullopt;
}

}  // namespace

std::optional<IpAddress> PeerPolicy::embedded_ipv4(const IpAddress& address) {
    return carried_ipv4(address, true);
}

std::optional<IpAddress> PeerPolicy::ipv4_host_of(const IpAddress& address) {
    return carried_ipv4(address, false);
}

void PeerPolicy::add_service_port(std::uint16_t port) {
    if (std::ranges::find(service_ports_, port) == service_ports_.end()) {
        service_ports_.push_back(port);
    }
}

void PeerPolicy::add_relayed_range(const IpAddress& address, std::uint16_t port_min,
                                   std::uint16_t port_max, const LiveRelayedPorts& live) {
    add_own_address(address);
    relayed_ranges_.push_back({address, port_min, port_max, &live});
}

PeerRefusal PeerPolicy::check(const TransportAddress& peer) const {
    const auto embedded = embedded_ipv4(peer.ip);
    // The relay itself before the allow-list: a list that covers the relay's own address
    // (127.0.0.0/8 in the demo, 10.0.0.0/8 beside a media server) must not open hearthd's
    // listeners and admin API to its clients.
    if (const auto refusal = check_relay_self(peer, embedded); refusal != PeerRefusal::none) {
        return refusal;
    }
    // Another allocation of this relay, on a private or reserved relay address too: the
    // two clients of one relay reach each other whatever range the relay sits in.
    if (is_other_allocation(peer)) {
        return PeerRefusal::none;
    }
    // The allow-list names what the operator means to reach, in whichever spelling the
    // client uses: 127.0.0.0/8 allowed also allows ::ffff:127.0.0.1.
    if (allowed(peer.ip, embedded)) {
        return PeerRefusal::none;
    }
    return check_address(peer.ip, embedded);
}

PeerRefusal PeerPolicy::check_port(const TransportAddress& peer) const {
    return check_relay_self(peer, embedded_ipv4(peer.ip));
}

PeerRefusal PeerPolicy::check_relay_self(const TransportAddress& peer,
                                         const std::optional<IpAddress>& embedded) const {
    const IpAddress& reached = embedded ? *embedded : peer.ip;
    const bool own = is_own_address(peer.ip) || (embedded && is_own_address(*embedded));
    if (std::ranges::find(service_ports_, peer.port) != service_ports_.end() &&
        (own || std::ranges::any_of(this_host, [&reached](const AddressRange& range) {
             return range.contains(reached);
         }))) {
        return PeerRefusal::relay_service;
    }
    if (!own || is_live_relayed_port(reached, peer.port) || allowed(peer.ip, embedded)) {
        return PeerRefusal::none;
    }
    return PeerRefusal::relay_self;
}

PeerRefusal PeerPolicy::check_address(const IpAddress& peer,
                                      const std::optional<IpAddress>& embedded) const {
    if (peer.family == AddressFamily::ipv4) {
        return first_refusal(ipv4_refused, peer);
    }
    if (const auto refusal = first_refusal(ipv6_refused, peer); refusal != PeerRefusal::none) {
        return refusal;
    }
    if (embedded) {
        return first_refusal(ipv4_refused, *embedded) == PeerRefusal::none
                   ? PeerRefusal::none
                   : PeerRefusal::embedded_ipv4;
    }
    if (local_use_nat64.contains(peer)) {
        return PeerRefusal::embedded_ipv4;
    }
    if (!global_unicast.contains(peer)) {
        return PeerRefusal::reserved;
    }
    return PeerRefusal::none;
}

bool PeerPolicy::allowed(const IpAddress& address, const std::optional<IpAddress>& embedded) const {
    return std::ranges::any_of(allow_, [&](const AddressRange& range) {
        return range.contains(address) || (embedded && range.contains(*embedded));
    });
}

bool PeerPolicy::is_other_allocation(const TransportAddress& peer) const {
    return is_live_relayed_port(embedded_ipv4(peer.ip).value_or(peer.ip), peer.port);
}

bool PeerPolicy::is_own_address(const IpAddress& address) const {
    return std::ranges::find(own_addresses_, address) != own_addresses_.end();
}

bool PeerPolicy::is_live_relayed_port(const IpAddress& address, std::uint16_t port) const {
    return std::ranges::any_of(relayed_ranges_, [&](const RelayedRange& range) {
        return range.address == address && port >= range.port_min && port <= range.port_max &&
               range.live->contains(address.family, port);
    });
}

}  // namespace hearth::turn
