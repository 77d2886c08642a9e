#include "relay/stun/nonce_cookie.h"

#include <cstdint>

namespace hearth::stun {

namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint32_t password_algorithms_bit = 1u << 0;
constexpr std::uint32_t username_anonymity_bit = 1u << 1;

}  // namespace

std::string nonce_cookie_for(SecurityFeatures features) {
    const std::uint32_t bits = (features.password_algorithms ? password_algorithms_bit : 0) |
                               (features.username_anonymity ? username_anonymity_bit : 0);
    std::string text(nonce_cookie);
    for (int shift = 18; shift >= 0; shift -= 6) {
        text += alphabet[(bits >> shift) & 63];
    }
    return text;
}

std::optional<SecurityFeatures> read_nonce_cookie(std::string_view nonce) {
    if (nonce.size() < nonce_cookie_size || !nonce.starts_with(nonce_cookie)) {
        return std::nullopt;
    }
    std::uint32_t bits = 0;
    for (const char c : nonce.substr(nonce_cookie.size(), 4)) {
        const auto value = alphabet.find(c);
        if (value == std::string_view::npos) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
    }
    return SecurityFeatures{(bits & password_algorithms_bit) != 0,
                            (bits & username_anonymity_bit) != 0};
}

}  // namespace hearth::stun
