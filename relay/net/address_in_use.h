#pragma once

// Whether another process already listens on an address hearthd is about to take. The
// listeners bind with SO_REUSEPORT so that every worker has its own socket; that would
// also let a second hearthd (./run.sh twice, a manual start beside systemd) bind the same
// addresses, and the kernel would split new clients between the two. Before any listener
// is opened, each address is bound once without SO_REUSEPORT: if that fails, someone holds
// it, and hearthd says who and stops.

#include <optional>
#include <string>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

// Empty when `address` is free for a socket of `type` (SOCK_DGRAM, SOCK_STREAM); else why
// not, naming the process that holds it when /proc tells ("used by hearthd, pid 4242").
std::optional<std::string> address_in_use(const TransportAddress& address, int type);

}  // namespace hearth::relay
