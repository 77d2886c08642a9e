#pragma once

// Stateless nonces (RFC 8489 §9.2): the nonce carries its own expiry and a MAC over the
// expiry and the client's address, so checking it needs no server state. hearth does
// not use the "obMatJos2" nonce cookie: it offers only MD5 MESSAGE-INTEGRITY, the one
// every browser's TURN client speaks.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "relay/stun/transport_address.h"

namespace hearth::auth {

enum class NonceCheck : std::uint8_t { valid, stale, invalid };

class NonceIssuer {
  public:
    NonceIssuer(std::array<std::byte, 32> key, std::chrono::seconds validity);
    static std::array<std::byte, 32> random_key();

    // 16 hex digits of expiry, then 24 hex digits of HMAC-SHA256(key, expiry || client ip).
    std::string issue(const IpAddress& client, std::int64_t now_unix) const;
    NonceCheck check(std::string_view nonce, const IpAddress& client, std::int64_t now_unix) const;
    // Reload: nonces issued from now on last this long; those out there keep their expiry.
    void set_validity(std::chrono::seconds validity) { validity_ = validity; }

  private:
    std::string mac_hex(std::uint64_t expiry, const IpAddress& client) const;

    std::array<std::byte, 32> key_;
    std::chrono::seconds validity_;
};

}  // namespace hearth::auth
