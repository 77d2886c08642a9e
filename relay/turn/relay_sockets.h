#pragma once

// How the state machine asks the I/O layer for relayed transport addresses.

#include <optional>

#include "relay/turn/allocation.h"

namespace hearth::turn {

class RelaySockets {
  public:
    virtual ~RelaySockets() = default;
    // Binds a UDP socket of that family (an even port when asked, RFC 8656 §7.2) and
    // starts reading it for `owner`. Nullopt when the family is not configured or no
    // port or descriptor is free.
    virtual std::optional<RelayEndpoint> open(AddressFamily family, bool even_port,
                                              Allocation& owner) = 0;
    virtual bool family_available(AddressFamily family) const = 0;
    virtual void close(RelayEndpoint& endpoint) = 0;
};

}  // namespace hearth::turn
