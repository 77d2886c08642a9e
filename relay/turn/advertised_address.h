#pragma once

// The relayed address a client is told, which is not always the one the relay binds.
// Behind a 1:1 NAT (a cloud VM with an elastic or floating IP) the host has only its
// private address: hearthd binds that (relay.ipv4) and must give clients the public one
// (relay.external_ipv4), since XOR-RELAYED-ADDRESS is where peers will send (RFC 8656
// §7.3); the NAT maps the public address to the private one and keeps the port.

#include <optional>

#include "relay/stun/transport_address.h"

namespace hearth::turn {

struct AdvertisedAddresses {
    std::optional<IpAddress> ipv4;  // relay.external_ipv4; none: the bound address
    std::optional<IpAddress> ipv6;  // relay.external_ipv6

    // `relayed` as clients must see it: the external address of its family, same port.
    TransportAddress of(const TransportAddress& relayed) const;
};

}  // namespace hearth::turn
