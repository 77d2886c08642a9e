#pragma once

// Stateless nonces (RFC 8489 §9.2): the nonce carries its own expiry and a MAC over the
// expiry, the security features it offers and the client's address, so checking it needs
// no server state. It starts with the nonce cookie (§9.2, relay/stun/nonce_cookie.h):
// the features a client reads there are covered by the MAC, so nobody on the path can
// strip "Password algorithms" from a 401 without the nonce failing (the bid-down attack
// of §9.2.1).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "relay/stun/nonce_cookie.h"
#include "relay/stun/transport_address.h"

namespace hearth::auth {

enum class NonceCheck : std::uint8_t { valid, stale, invalid };

struct CheckedNonce {
    NonceCheck verdict = NonceCheck::invalid;
    stun::SecurityFeatures features;  // what it was issued with, unless invalid
};

class NonceIssuer {
  public:
    // "obMatJos2", 4 characters of features, then 15 of base64url (RFC 4648 §5) of the
    // expiry (4 bytes, Unix seconds) and 7 bytes of HMAC-SHA256(key, expiry || cookie ||
    // client address). Small on purpose: it is in every 401 (SECURITY.md, "No
    // amplification"); 56 bits of MAC still take 2^55 requests on average to forge, each
    // rate-limited, and a forged nonce gets no further than a real one without a password.
    static constexpr std::size_t size = stun::nonce_cookie_size + 15;

    NonceIssuer(std::array<std::byte, 32> key, std::chrono::seconds validity);
    static std::array<std::byte, 32> random_key();

    std::string issue(const IpAddress& client, std::int64_t now_unix,
                      stun::SecurityFeatures features) const;
    CheckedNonce check(std::string_view nonce, const IpAddress& client,
                       std::int64_t now_unix) const;
    // Reload: nonces issued from now on last this long; those out there keep their expiry.
    void set_validity(std::chrono::seconds validity) { validity_ = validity; }

  private:
    std::string text(std::uint32_t expiry, std::string_view cookie, const IpAddress& client) const;

    std::array<std::byte, 32> key_;
    std::chrono::seconds validity_;
};

}  // namespace hearth::auth
