#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relay/stun/transport_address.h"

namespace hearth {

// An address range in CIDR form, e.g. 127.0.0.0/8 or ::1/128. A range only contains
// addresses of its own family.
struct AddressRange {
    IpAddress network;  // host bits are zero
    std::uint8_t prefix_length = 0;

    // Nullopt for a bad address, a prefix past the family's width, or set host bits.
    static std::optional<AddressRange> parse(std::string_view text);
    bool contains(const IpAddress& address) const;
    std::string to_string() const;
    friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

}  // namespace hearth
