#pragma once

#include <cstdint>
#include <functional>

#include "relay/stun/transport_address.h"

namespace hearth::turn {

enum class ClientTransport : std::uint8_t { udp, tcp, tls };
const char* to_string(ClientTransport transport);

// RFC 8656 §2: the client's and the server's transport addresses and the transport
// protocol identify an allocation.
struct FiveTuple {
    TransportAddress client;
    TransportAddress server;
    ClientTransport transport = ClientTransport::udp;
    friend bool operator==(const FiveTuple&, const FiveTuple&) = default;
};

struct FiveTupleHash {
    std::size_t operator()(const FiveTuple& tuple) const noexcept {
        TransportAddressHash hash;
        return hash(tuple.client) * 31 + hash(tuple.server) +
               static_cast<std::size_t>(tuple.transport);
    }
};

}  // namespace hearth::turn
