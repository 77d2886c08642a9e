#pragma once

// MESSAGE-INTEGRITY (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6), FINGERPRINT (§14.7)
// and the long-term credential keys (§9.2.2).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "relay/stun/message.h"
#include "relay/stun/password_algorithm.h"

namespace hearth::stun {

using Md5Key = std::array<std::byte, 16>;
using Sha256Key = std::array<std::byte, 32>;

// Which integrity attribute a message is signed with: MESSAGE-INTEGRITY (HMAC-SHA1, §14.5)
// or MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, §14.6).
enum class IntegrityAttribute : std::uint8_t { message_integrity, message_integrity_sha256 };

// A long-term key with what it is: the algorithm it was derived with, which fixes its
// length (16 bytes of MD5, 32 of SHA-256), and the attribute messages are signed with.
class IntegrityKey {
  public:
    IntegrityKey() = default;  // the all-zero MD5 key, for MESSAGE-INTEGRITY
    static IntegrityKey md5(const Md5Key& key, IntegrityAttribute attribute);
    static IntegrityKey sha256(const Sha256Key& key, IntegrityAttribute attribute);

    PasswordAlgorithm algorithm() const { return algorithm_; }
    IntegrityAttribute attribute() const { return attribute_; }
    Bytes bytes() const;
    bool operator==(const IntegrityKey&) const = default;

  private:
    PasswordAlgorithm algorithm_ = PasswordAlgorithm::md5;
    IntegrityAttribute attribute_ = IntegrityAttribute::message_integrity;
    Sha256Key value_{};  // the first 16 bytes for MD5
};

// key = MD5(username ":" realm ":" password); the password is used as given (the caller
// applies OpaqueString where it needs to; TURN REST passwords are base64 ASCII).
Md5Key long_term_key_md5(std::string_view username, std::string_view realm,
                         std::string_view password);
Sha256Key long_term_key_sha256(std::string_view username, std::string_view realm,
                               std::string_view password);
// RFC 8489 §9.2.2: the key of `algorithm`, for messages signed with `attribute`.
IntegrityKey long_term_key(PasswordAlgorithm algorithm, IntegrityAttribute attribute,
                           std::string_view username, std::string_view realm,
                           std::string_view password);
// RFC 8489 §14.4 USERHASH = SHA-256(username ":" realm).
Sha256Key userhash(std::string_view username, std::string_view realm);

// Verifies the attribute against the message it was parsed from, in constant time.
// False when the attribute is absent or of the wrong length.
bool verify_message_integrity(const MessageView& message, Bytes key);
bool verify_message_integrity_sha256(const MessageView& message, Bytes key);
bool verify_fingerprint(const MessageView& message);
// A request's integrity (RFC 8489 §9.2.4, §14.6): true when it carries MESSAGE-INTEGRITY,
// MESSAGE-INTEGRITY-SHA256 or both, and each one it carries verifies with `key`.
bool verify_request_integrity(const MessageView& message, Bytes key);

std::array<std::byte, 20> hmac_sha1(Bytes key, Bytes data);
std::array<std::byte, 32> hmac_sha256(Bytes key, Bytes data);

// CRC-32 of the bytes XOR 0x5354554e.
std::uint32_t fingerprint_value(Bytes bytes);

}  // namespace hearth::stun
