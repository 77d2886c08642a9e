#include "auth/nonce.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "auth/base64.h"
#include "relay/stun/integrity.h"

namespace hearth::auth {

namespace {
constexpr std::size_t expiry_bytes = 4;
constexpr std::size_t mac_bytes = 7;
}  // namespace

NonceIssuer::NonceIssuer(std::array<std::byte, 32> key, std::chrono::seconds validity)
    : key_(key), validity_(validity) {}

std::array<std::byte, 32> NonceIssuer::random_key() {
    std::array<std::byte, 32> key{};
    RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size()));
    return key;
}

std::string NonceIssuer::text(std::uint32_t expiry, std::string_view cookie,
                              const IpAddress& client) const {
    std::array<std::byte, expiry_bytes + stun::nonce_cookie_size + 16> input{};
    for (std::size_t i = 0; i < expiry_bytes; ++i) {
        input[i] = static_cast<std::byte>(expiry >> (24 - 8 * i));
    }
    std::memcpy(input.data() + expiry_bytes, cookie.data(), stun::nonce_cookie_size);
    std::memcpy(input.data() + expiry_bytes + stun::nonce_cookie_size, client.bytes.data(),
                client.size());
    const auto mac = stun::hmac_sha256(
        key_, std::span(input.data(), expiry_bytes + stun::nonce_cookie_size + client.size()));
    std::array<std::byte, expiry_bytes + mac_bytes> body{};
    std::copy_n(input.begin(), expiry_bytes, body.begin());
    std::copy_n(mac.begin(), mac_bytes, body.begin() + expiry_bytes);
    return std::string(cookie) + base64url_encode(body);
}

std::string NonceIssuer::issue(const IpAddress& client, std::int64_t now_unix,
                               stun::SecurityFeatures features) const {
    const std::int64_t expiry = std::clamp<std::int64_t>(now_unix + validity_.count(), 0,
                                                         std::numeric_limits<std::uint32_t>::max());
    return text(static_cast<std::uint32_t>(expiry), stun::nonce_cookie_for(features), client);
}

CheckedNonce NonceIssuer::check(std::string_view nonce, const IpAddress& client,
                                std::int64_t now_unix) const {
    const auto features = stun::read_nonce_cookie(nonce);
    if (nonce.size() != size || !features) {
        return {};
    }
    const auto body = base64url_decode(nonce.substr(stun::nonce_cookie_size));
    if (!body || body->size() != expiry_bytes + mac_bytes) {
        return {};
    }
    std::uint32_t expiry = 0;
    for (std::size_t i = 0; i < expiry_bytes; ++i) {
        expiry = (expiry << 8) | std::to_integer<std::uint32_t>((*body)[i]);
    }
    // Rebuilt from what the nonce says and compared whole: the MAC, and the spelling too.
    const std::string expected = text(expiry, nonce.substr(0, stun::nonce_cookie_size), client);
    if (CRYPTO_memcmp(expected.data(), nonce.data(), size) != 0) {
        return {};
    }
    return {expiry < now_unix ? NonceCheck::stale : NonceCheck::valid, *features};
}

}  // namespace hearth::auth
