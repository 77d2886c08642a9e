#pragma once

// The relay's own addresses, which a client must not reach through it (RFC 8656 §21.2.4:
// a client looping traffic through the relay back into the relay's own listeners, or into
// another allocation's relayed address, gets around both the peer policy and the limits).

#include <cstdint>
#include <span>
#include <vector>

#include "relay/config/config.h"
#include "relay/stun/transport_address.h"

namespace hearth::relay {

// Every address hearthd listens on (TURN over UDP, TCP and TLS, the admin API) or relays
// from, and every address of the host's interfaces (`host_addresses`), whether or not a
// listener is a wildcard.
std::vector<IpAddress> own_addresses(const config::Config& config,
                                     std::span<const IpAddress> host_addresses);

// The ports no RFC 6062 Connect may reach, on any address: relay.tcp_denied_ports and the
// admin API's port (the other nodes of a cluster listen on it too).
std::vector<std::uint16_t> tcp_denied_ports(const config::Config& config);

// The addresses of this host's interfaces now (getifaddrs); empty if they cannot be read.
// Read at start and on reload: an address the host gains in between is not known.
std::vector<IpAddress> host_addresses();

}  // namespace hearth::relay
