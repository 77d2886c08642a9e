#pragma once

// The relayed ports this node's allocations hold right now, by family and transport,
// shared by every worker. A peer at one of the relay's own addresses is another allocation
// only while an allocation holds that port: the rest of the relayed range belongs to the
// host, and a co-located media server or an ephemeral socket of another process may sit
// there (Linux hands out ephemeral ports from 32768 up, inside the usual 49152-65535).
// Set and cleared when a relayed socket is bound and closed; read lock-free by the peer
// policy, on the Send indication's path too.

#include <array>
#include <atomic>
#include <cstdint>

#include "relay/stun/transport_address.h"
#include "relay/turn/relay_protocol.h"

namespace hearth::turn {

class LiveRelayedPorts {
  public:
    void add(AddressFamily family, RelayProtocol protocol, std::uint16_t port);
    void remove(AddressFamily family, RelayProtocol protocol, std::uint16_t port);
    // Held by an allocation of either transport: a peer names an address and a port, and
    // the policy that vets it does not know which transport will reach it.
    bool contains(AddressFamily family, std::uint16_t port) const;

  private:
    using PortBits = std::array<std::atomic<std::uint64_t>, 65536 / 64>;
    PortBits& bits(AddressFamily family, RelayProtocol protocol);
    const PortBits& bits(AddressFamily family, RelayProtocol protocol) const;

    std::array<PortBits, 4> bits_{};  // ipv4/udp, ipv4/tcp, ipv6/udp, ipv6/tcp
};

}  // namespace hearth::turn
