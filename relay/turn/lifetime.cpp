#include "relay/turn/lifetime.h"

#include <algorithm>

#include "relay/stun/attributes.h"

namespace hearth::turn {

std::optional<Seconds> requested_lifetime(const stun::MessageView& message) {
    const auto value = message.find(stun::attribute::lifetime);
    if (!value) {
        return std::nullopt;
    }
    const auto requested = stun::decode_u32(*value);
    if (!requested) {
        return std::nullopt;
    }
    return Seconds{*requested};
}

Seconds granted_lifetime(std::optional<Seconds> requested, Seconds lifetime_default,
                         Seconds lifetime_max) {
    if (!requested) {
        return lifetime_default;
    }
    return std::clamp(*requested, lifetime_default, lifetime_max);
}

}  // namespace hearth::turn
