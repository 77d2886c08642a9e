#pragma once

// The nonce cookie (RFC 8489 §9.2): a nonce that starts with "obMatJos2" and four
// characters of base64 (RFC 4648 §4) tells the client which STUN Security Features
// (§18.1) the server offers. The 24 bits are numbered from the right (RFC 8489 Erratum
// 6290): bit 0 "Password algorithms", bit 1 "Username anonymity".

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::stun {

struct SecurityFeatures {
    bool password_algorithms = false;  // PASSWORD-ALGORITHMS offered (§9.2.1, bid-down)
    bool username_anonymity = false;   // USERHASH accepted in place of USERNAME (§14.4)
    bool operator==(const SecurityFeatures&) const = default;
};

constexpr std::string_view nonce_cookie = "obMatJos2";
// The cookie and the four characters of features that follow it.
constexpr std::size_t nonce_cookie_size = nonce_cookie.size() + 4;

// The first nonce_cookie_size characters of a nonce offering `features`.
std::string nonce_cookie_for(SecurityFeatures features);

// The features a nonce announces; nullopt for a nonce without the cookie (an RFC 5389
// server's) or with a malformed one. Bits hearth does not know are ignored.
std::optional<SecurityFeatures> read_nonce_cookie(std::string_view nonce);

}  // namespace hearth::stun
