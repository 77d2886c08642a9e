#pragma once

// What per-source limits and bans count as one source. An IPv6 subscriber is commonly
// given a whole /64 (RFC 6177) and may use any address in it, so counting each address
// alone would let one subscriber escape every per-source limit and ban by rotating its
// interface identifier. An IPv6 source therefore counts as its /64. IPv4 sources, also
// in an IPv6 form that carries them (IPv4-mapped, NAT64), keep every bit.

#include "relay/stun/transport_address.h"

namespace hearth::turn {

IpAddress source_prefix(const IpAddress& source);

}  // namespace hearth::turn
