#pragma once

// What an Allocate request asks for (RFC 8656 §7.2, RFC 6062 §5.1), read from its
// attributes and checked on their own, before anything is reserved or opened. Whether the
// node can give it (rate, draining, quotas, the session store, relay sockets) is the
// admission's business, in allocate.cpp.

#include <expected>
#include <optional>

#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/allocation.h"
#include "relay/turn/clock.h"
#include "relay/turn/five_tuple.h"
#include "relay/turn/turn_error.h"

namespace hearth::turn {

struct AllocateRequest {
    RelayProtocol transport = RelayProtocol::udp;  // REQUESTED-TRANSPORT
    AddressFamily family = AddressFamily::ipv4;    // REQUESTED-ADDRESS-FAMILY
    bool dual = false;                // ADDITIONAL-ADDRESS-FAMILY: an IPv6 address as well
    bool even_port = false;           // EVEN-PORT
    std::optional<Seconds> lifetime;  // LIFETIME; nullopt when absent or malformed
};

// The request's attributes, or the first error they earn. `client_transport` is the
// transport the request came over: a TCP relay is made over TCP or TLS only.
std::expected<AllocateRequest, RequestRefusal> read_allocate_request(
    const stun::MessageView& message, ClientTransport client_transport);

}  // namespace hearth::turn
