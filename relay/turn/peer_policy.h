#pragma once

// Which peers a client may reach through the relay (DESIGN.md "Security defaults",
// RFC 8656 §21.2.4 / §22: a TURN server must not become a path into the networks it
// sits in). One table, one place: every method that names a peer asks check().

#include <cstdint>
#include <optional>
#include <vector>

#include "relay/stun/address_range.h"
#include "relay/stun/transport_address.h"

namespace hearth::turn {

enum class PeerRefusal : std::uint8_t {
    none,
    loopback,
    private_range,
    link_local,
    cgnat,
    multicast,
    broadcast,
    unspecified,
    unique_local,
    metadata,
    reserved,
    embedded_ipv4,  // v4 in a mapped/compat/NAT64/6to4 form that is itself refused; Teredo
    relay_self,
};
const char* to_string(PeerRefusal refusal);

class PeerPolicy {
  public:
    // `allow` exempts ranges from every refusal (config `peer_allow`).
    explicit PeerPolicy(std::vector<AddressRange> allow = {});

    // What refuses this peer, or PeerRefusal::none. Checked on CreatePermission,
    // ChannelBind, Send, Connect. No heap allocation.
    PeerRefusal check(const IpAddress& peer) const;

    // The relay's listening/relayed addresses: refused (relay_self) unless allowed, so a
    // client cannot loop traffic through the relay back into itself.
    void add_own_address(const IpAddress& address);

    // The IPv4 address an IPv6 address carries in an IPv4-mapped, IPv4-compatible,
    // IPv4-translated, NAT64 or 6to4 form; nullopt for other addresses (and for IPv4).
    static std::optional<IpAddress> embedded_ipv4(const IpAddress& address);
    // The IPv4 host an IPv6 address stands for: embedded_ipv4(), and also a Teredo
    // client's own IPv4 address (RFC 4380 §4), which a packet to it does not go to directly.
    static std::optional<IpAddress> ipv4_host_of(const IpAddress& address);

  private:
    bool allowed(const IpAddress& address) const;
    bool is_own_address(const IpAddress& address) const;
    PeerRefusal check_ipv4(const IpAddress& peer) const;

    std::vector<AddressRange> allow_;
    std::vector<IpAddress> own_addresses_;
};

}  // namespace hearth::turn
