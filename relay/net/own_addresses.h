#pragma once

// The relay's own addresses and ports, which a client must not reach through it: traffic
// looped through the relay back into its own listeners or admin API would come from the
// relay's address, past the peer policy and the per-source limits. Another allocation's
// relayed address is the one part of the relay a peer may be (turn/peer_policy.h).

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

// The ports hearthd itself listens on: TURN over UDP, TCP and TLS, the admin API, and the
// session store's Redis when it is one. No peer may name them at an address of this host.
std::vector<std::uint16_t> service_ports(const config::Config& config);

// The ports no RFC 6062 Connect may reach, on any address: relay.tcp_denied_ports and the
// admin API's port (the other nodes of a cluster listen on it too).
std::vector<std::uint16_t> tcp_denied_ports(const config::Config& config);

// The addresses of this host's interfaces now (getifaddrs); empty if they cannot be read.
// Read at start and on reload: an address the host gains in between is not known.
std::vector<IpAddress> host_addresses();

}  // namespace hearth::relay
