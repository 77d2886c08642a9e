#include "relay/stun/password_algorithm.h"

#include <algorithm>

namespace hearth::stun {

namespace {

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

// RFC 8489 §14.11: each entry is the algorithm (2 bytes), the parameters' length (2 bytes)
// and the parameters, padded to four bytes. Reads the entry at `offset` and moves past it;
// nullopt when it runs past the value.
std::optional<PasswordAlgorithmEntry> next_entry(Bytes list, std::size_t& offset) {
    if (list.size() - offset < 4) {
        return std::nullopt;
    }
    const std::uint16_t number = read_u16(list.data() + offset);
    const std::size_t length = read_u16(list.data() + offset + 2);
    const std::size_t padded = (length + 3) & ~std::size_t{3};
    if (list.size() - offset - 4 < padded) {
        return std::nullopt;
    }
    PasswordAlgorithmEntry entry{number, list.subspan(offset + 4, length)};
    offset += 4 + padded;
    return entry;
}

bool same(const PasswordAlgorithmEntry& a, const PasswordAlgorithmEntry& b) {
    return a.number == b.number && std::ranges::equal(a.parameters, b.parameters);
}

}  // namespace

std::optional<PasswordAlgorithmEntry> decode_password_algorithm(Bytes value) {
    std::size_t offset = 0;
    auto entry = next_entry(value, offset);
    if (!entry || offset != value.size()) {
        return std::nullopt;
    }
    return entry;
}

std::optional<PasswordAlgorithm> known_password_algorithm(const PasswordAlgorithmEntry& entry) {
    if (!entry.parameters.empty()) {
        return std::nullopt;
    }
    switch (entry.number) {
        case static_cast<std::uint16_t>(PasswordAlgorithm::md5):
            return PasswordAlgorithm::md5;
        case static_cast<std::uint16_t>(PasswordAlgorithm::sha256):
            return PasswordAlgorithm::sha256;
        default:
            return std::nullopt;
    }
}

bool password_algorithms_contain(Bytes list, const PasswordAlgorithmEntry& entry) {
    bool found = false;
    std::size_t offset = 0;
    while (offset < list.size()) {
        const auto next = next_entry(list, offset);
        if (!next) {
            return false;
        }
        found = found || same(*next, entry);
    }
    return found;
}

std::array<std::byte, 4> encode_password_algorithm(PasswordAlgorithm algorithm) {
    const auto number = static_cast<std::uint16_t>(algorithm);
    return {static_cast<std::byte>(number >> 8), static_cast<std::byte>(number), std::byte{0},
            std::byte{0}};
}

}  // namespace hearth::stun
