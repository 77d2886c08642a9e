#pragma once

// Every socket hearth binds is made here, with its options in one place: the listeners'
// (SO_REUSEPORT, one per worker), the relayed addresses' (a port of their own), and the
// RFC 6062 outgoing connections (the relayed TCP address's port, shared with its listener).

#include <string>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

enum class PortSharing {
    exclusive,  // a relayed UDP address: the port is this socket's alone
    shared,     // SO_REUSEADDR and SO_REUSEPORT: listeners of every worker, RFC 6062 relays
};

// A non-blocking, close-on-exec socket of `type` (SOCK_DGRAM, SOCK_STREAM) for `family`;
// IPv6 sockets are IPv6 only. -1 with errno set on failure.
int open_socket(AddressFamily family, int type, PortSharing sharing);

// Binds `fd` to `address`; false with errno set on failure.
bool bind_to(int fd, const TransportAddress& address);

// open_socket and bind_to together, shared; -1 and `error` in words on failure.
int open_bound_socket(const TransportAddress& address, int type, std::string& error);

}  // namespace hearth::relay
