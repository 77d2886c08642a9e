#pragma once

// What per-source limits and bans count as one source. An IPv6 subscriber is commonly
// given a whole /64 (RFC 6177) and may use any address in it, so counting each address
// alone would let one subscriber escape every per-source limit and ban by rotating its
// interface identifier. An IPv6 source therefore counts as its /64. IPv4 sources keep
// every bit, and an IPv6 form that carries an IPv4 address (IPv4-mapped, NAT64, 6to4,
// Teredo) counts as that IPv4 address.

#include "relay/stun/transport_address.h"

namespace hearth::turn {

IpAddress source_prefix(const IpAddress& source);

}  // namespace hearth::turn
