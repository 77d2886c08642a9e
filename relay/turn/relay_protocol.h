#pragma once

#include <cstdint>

namespace hearth::turn {

// The relayed side's transport: UDP (RFC 8656) or TCP (RFC 6062).
enum class RelayProtocol : std::uint8_t { udp, tcp };

}  // namespace hearth::turn
