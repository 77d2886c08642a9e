#include "relay/stun/address_range.h"

#include <charconv>

namespace hearth {

namespace {

constexpr std::uint8_t width_in_bits(AddressFamily family) {
    return family == AddressFamily::ipv4 ? 32 : 128;
}

// The mask for byte `index` of a prefix `prefix_length` bits long: 0xff inside the
// prefix, 0x00 past it, partial on the byte the prefix ends in.
constexpr std::uint8_t prefix_mask(std::size_t index, std::uint8_t prefix_length) {
    const std::size_t first_bit = index * 8;
    if (prefix_length >= first_bit + 8) {
        return 0xff;
    }
    if (prefix_length <= first_bit) {
        return 0x00;
    }
    return static_cast<std::uint8_t>(0xff << (8 - (prefix_length - first_bit)));
}

// Decimal digits only: no sign, no blanks, no leading zero (so "/08" is refused as a
// probable typo rather than read as 8), at most three digits.
std::optional<std::uint8_t> parse_prefix_length(std::string_view text) {
    if (text.empty() || text.size() > 3 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value > 128) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(value);
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
    const auto slash = text.find('/');
    const auto network = IpAddress::parse(text.substr(0, slash));
    if (!network) {
        return std::nullopt;
    }
    const std::uint8_t width = width_in_bits(network->family);
    std::uint8_t prefix_length = width;  // a bare address is a range of one
    if (slash != std::string_view::npos) {
        const auto parsed = parse_prefix_length(text.substr(slash + 1));
        if (!parsed || *parsed > width) {
            return std::nullopt;
        }
        prefix_length = *parsed;
    }
    // Set host bits usually mean the operator wrote an address where a network was
    // meant (10.1.2.3/8); refusing it beats silently widening or narrowing the range.
    for (std::size_t index = 0; index < network->size(); ++index) {
        if ((network->bytes[index] & ~prefix_mask(index, prefix_length)) != 0) {
            return std::nullopt;
        }
    }
    return AddressRange{*network, prefix_length};
}

bool AddressRange::contains(const IpAddress& address) const {
    if (address.family != network.family) {
        return false;
    }
    for (std::size_t index = 0; index < network.size(); ++index) {
        const std::uint8_t mask = prefix_mask(index, prefix_length);
        if (mask == 0) {
            break;
        }
        // Masking both sides keeps a hand-built range with stray host bits correct.
        if ((address.bytes[index] & mask) != (network.bytes[index] & mask)) {
            return false;
        }
    }
    return true;
}

std::string AddressRange::to_string() const {
    return network.to_string() + "/" + std::to_string(prefix_length);
}

}  // namespace hearth
