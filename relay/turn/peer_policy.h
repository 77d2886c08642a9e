#pragma once

// Which peers a client may reach through the relay (DESIGN.md "Security defaults",
// RFC 8656 §21.2.4 / §22: a TURN server must not become a path into the networks it
// sits in). One table, one place: every method that names a peer asks check().

#include <cstdint>
#include <optional>
#include <vector>

#include "relay/stun/address_range.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/live_relayed_ports.h"

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
    relay_self,     // an address of the relay's host, not allow-listed
    relay_service,  // a port hearthd listens on, at an address of its host: never allowed
};
const char* to_string(PeerRefusal refusal);

class PeerPolicy {
  public:
    // `allow` exempts ranges from every refusal (config `peer_policy.allow`) but the relay's
    // own ports.
    explicit PeerPolicy(std::vector<AddressRange> allow = {});

    // What refuses this peer, or PeerRefusal::none. Checked on CreatePermission,
    // ChannelBind, Send, Connect. No heap allocation.
    PeerRefusal check(const TransportAddress& peer) const;
    // What check() says about the port alone, for a peer whose address has a permission
    // (a permission covers every port of an address, RFC 8656 §9): on the relay's own
    // addresses the port decides. The Send indication's path: no heap allocation.
    PeerRefusal check_port(const TransportAddress& peer) const;

    // An address of the relay's host (its listeners, relayed addresses and interfaces):
    // refused (relay_self) unless allowed, so a client cannot reach the host's own services
    // through the relay from the host's own address.
    void add_own_address(const IpAddress& address);
    // A port hearthd listens on (a TURN listener, the admin API): refused (relay_service)
    // at any address of the relay's host, loopback included, whatever the allow-list says.
    void add_service_port(std::uint16_t port);
    // Allocations are relayed from `address` (also an own address), ports `port_min` to
    // `port_max`. A peer there on a port `live` holds is another allocation, which two
    // clients of this relay need to reach each other (relayed candidates on both sides):
    // it is reachable whatever the address's range, since the other allocation's own
    // permissions guard it (RFC 8656 §9). Any other port of the range is the host's, and
    // refused as relay_self unless allow-listed. `live` outlives the policy.
    void add_relayed_range(const IpAddress& address, std::uint16_t port_min, std::uint16_t port_max,
                           const LiveRelayedPorts& live);

    // Another allocation of this relay: a port one holds now at a relayed address, in any
    // spelling. A channel to it is checked on its port for every packet (check_port).
    bool is_other_allocation(const TransportAddress& peer) const;

    // The IPv4 address an IPv6 address carries in an IPv4-mapped, IPv4-compatible,
    // IPv4-translated, NAT64 or 6to4 form; nullopt for other addresses (and for IPv4).
    static std::optional<IpAddress> embedded_ipv4(const IpAddress& address);
    // The IPv4 host an IPv6 address stands for: embedded_ipv4(), and also a Teredo
    // client's own IPv4 address (RFC 4380 §4), which a packet to it does not go to directly.
    static std::optional<IpAddress> ipv4_host_of(const IpAddress& address);

  private:
    struct RelayedRange {
        IpAddress address;
        std::uint16_t port_min = 0;
        std::uint16_t port_max = 0;
        const LiveRelayedPorts* live = nullptr;
    };
    // The relay itself: its service ports, and its own addresses unless allowed or relayed.
    PeerRefusal check_relay_self(const TransportAddress& peer,
                                 const std::optional<IpAddress>& embedded) const;
    PeerRefusal check_address(const IpAddress& peer,
                              const std::optional<IpAddress>& embedded) const;
    bool allowed(const IpAddress& address, const std::optional<IpAddress>& embedded) const;
    bool is_own_address(const IpAddress& address) const;
    // A port an allocation of this relay holds at `address` right now.
    bool is_live_relayed_port(const IpAddress& address, std::uint16_t port) const;

    std::vector<AddressRange> allow_;
    std::vector<IpAddress> own_addresses_;
    std::vector<std::uint16_t> service_ports_;
    std::vector<RelayedRange> relayed_ranges_;
};

}  // namespace hearth::turn
