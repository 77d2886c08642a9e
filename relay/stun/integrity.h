#pragma once

// MESSAGE-INTEGRITY (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6), FINGERPRINT (§14.7)
// and the long-term credential keys (§9.2.2).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "relay/stun/message.h"

namespace hearth::stun {

using Md5Key = std::array<std::byte, 16>;
using Sha256Key = std::array<std::byte, 32>;

// key = MD5(username ":" realm ":" password); the password is used as given (the caller
// applies OpaqueString where it needs to; TURN REST passwords are base64 ASCII).
Md5Key long_term_key_md5(std::string_view username, std::string_view realm,
                         std::string_view password);
Sha256Key long_term_key_sha256(std::string_view username, std::string_view realm,
                               std::string_view password);
// RFC 8489 §14.4 USERHASH = SHA-256(username ":" realm).
Sha256Key userhash(std::string_view username, std::string_view realm);

// Verifies the attribute against the message it was parsed from, in constant time.
// False when the attribute is absent or of the wrong length.
bool verify_message_integrity(const MessageView& message, Bytes key);
bool verify_message_integrity_sha256(const MessageView& message, Bytes key);
bool verify_fingerprint(const MessageView& message);

std::array<std::byte, 20> hmac_sha1(Bytes key, Bytes data);
std::array<std::byte, 32> hmac_sha256(Bytes key, Bytes data);

// CRC-32 of the bytes XOR 0x5354554e.
std::uint32_t fingerprint_value(Bytes bytes);

}  // namespace hearth::stun
