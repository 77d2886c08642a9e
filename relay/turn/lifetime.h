#pragma once

// LIFETIME (RFC 8656 §18.2) as a client asks for it in Allocate and Refresh, and as the
// server grants it.

#include <optional>

#include "relay/stun/message.h"
#include "relay/turn/clock.h"

namespace hearth::turn {

// The LIFETIME a request carries; nullopt when it has none or a malformed one.
std::optional<Seconds> requested_lifetime(const stun::MessageView& message);

// RFC 8656 §7.2: the requested lifetime, but never below the default nor above the maximum.
Seconds granted_lifetime(std::optional<Seconds> requested, Seconds lifetime_default,
                         Seconds lifetime_max);

}  // namespace hearth::turn
