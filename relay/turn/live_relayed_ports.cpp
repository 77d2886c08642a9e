#include "relay/turn/live_relayed_ports.h"

namespace hearth::turn {

namespace {

std::size_t table_of(AddressFamily family, RelayProtocol protocol) {
    return (family == AddressFamily::ipv6 ? 2 : 0) + (protocol == RelayProtocol::tcp ? 1 : 0);
}

std::uint64_t bit_of(std::uint16_t port) {
    return std::uint64_t{1} << (port % 64);
}

}  // namespace

LiveRelayedPorts::PortBits& LiveRelayedPorts::bits(AddressFamily family, RelayProtocol protocol) {
    return bits_[table_of(family, protocol)];
}

const LiveRelayedPorts::PortBits& LiveRelayedPorts::bits(AddressFamily family,
                                                         RelayProtocol protocol) const {
    return bits_[table_of(family, protocol)];
}

// Release and acquire: a client learns the relayed address from the Allocate answer sent
// after add(), and the other worker that vets it as a peer must see the bit.
void LiveRelayedPorts::add(AddressFamily family, RelayProtocol protocol, std::uint16_t port) {
    bits(family, protocol)[port / 64].fetch_or(bit_of(port), std::memory_order_release);
}

void LiveRelayedPorts::remove(AddressFamily family, RelayProtocol protocol, std::uint16_t port) {
    bits(family, protocol)[port / 64].fetch_and(~bit_of(port), std::memory_order_release);
}

bool LiveRelayedPorts::contains(AddressFamily family, std::uint16_t port) const {
    for (const auto protocol : {RelayProtocol::udp, RelayProtocol::tcp}) {
        if ((bits(family, protocol)[port / 64].load(std::memory_order_acquire) & bit_of(port)) !=
            0) {
            return true;
        }
    }
    return false;
}

}  // namespace hearth::turn
