#pragma once

// PASSWORD-ALGORITHM (RFC 8489 §14.12) and PASSWORD-ALGORITHMS (§14.11): the hash the
// long-term key is derived with (§9.2.2), chosen by the client from the server's list.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "relay/stun/message.h"

namespace hearth::stun {

// RFC 8489 §18.5, the STUN Password Algorithms registry: the two hearth derives keys with.
enum class PasswordAlgorithm : std::uint16_t {
    md5 = 0x0001,
    sha256 = 0x0002,
};

// One algorithm as the attributes carry it: its number and parameters (MD5 and SHA-256
// have none, §14.11).
struct PasswordAlgorithmEntry {
    std::uint16_t number = 0;
    Bytes parameters;
};

// The value of PASSWORD-ALGORITHM; nullopt when it is not exactly one entry.
std::optional<PasswordAlgorithmEntry> decode_password_algorithm(Bytes value);

// The algorithm an entry names if hearth derives keys with it (and it has no parameters).
std::optional<PasswordAlgorithm> known_password_algorithm(const PasswordAlgorithmEntry& entry);

// Whether `list`, a PASSWORD-ALGORITHMS value, is well formed and holds `entry`.
bool password_algorithms_contain(Bytes list, const PasswordAlgorithmEntry& entry);

// An entry with no parameters, as both attributes encode it.
std::array<std::byte, 4> encode_password_algorithm(PasswordAlgorithm algorithm);

}  // namespace hearth::stun
