#include "auth/nonce.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

#include "relay/stun/integrity.h"

namespace hearth::auth {

namespace {
constexpr std::size_t expiry_digits = 16;
constexpr std::size_t mac_digits = 24;

std::string hex(const unsigned char* bytes, std::size_t length) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text(length * 2, '0');
    for (std::size_t i = 0; i < length; ++i) {
        text[2 * i] = digits[bytes[i] >> 4];
        text[2 * i + 1] = digits[bytes[i] & 0xF];
    }
    return text;
}
}  // namespace

NonceIssuer::NonceIssuer(std::array<std::byte, 32> key, std::chrono::seconds validity)
    : key_(key), validity_(validity) {}

std::array<std::byte, 32> NonceIssuer::random_key() {
    std::array<std::byte, 32> key{};
    RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size()));
    return key;
}

std::string NonceIssuer::mac_hex(std::uint64_t expiry, const IpAddress& client) const {
    unsigned char input[8 + 16];
    for (int i = 0; i < 8; ++i) {
        input[i] = static_cast<unsigned char>(expiry >> (56 - 8 * i));
    }
    std::copy_n(client.bytes.begin(), client.size(), input + 8);
    const auto mac = stun::hmac_sha256(
        key_, std::span(reinterpret_cast<const std::byte*>(input), 8 + client.size()));
    return hex(reinterpret_cast<const unsigned char*>(mac.data()), mac_digits / 2);
}

std::string NonceIssuer::issue(const IpAddress& client, std::int64_t now_unix) const {
    const auto expiry = static_cast<std::uint64_t>(now_unix + validity_.count());
    char expiry_text[expiry_digits + 1];
    std::snprintf(expiry_text, sizeof expiry_text, "%016llx",
                  static_cast<unsigned long long>(expiry));
    return std::string(expiry_text) + mac_hex(expiry, client);
}

NonceCheck NonceIssuer::check(std::string_view nonce, const IpAddress& client,
                              std::int64_t now_unix) const {
    if (nonce.size() != expiry_digits + mac_digits) {
        return NonceCheck::invalid;
    }
    std::uint64_t expiry = 0;
    for (std::size_t i = 0; i < expiry_digits; ++i) {
        const char c = nonce[i];
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) {
            return NonceCheck::invalid;
        }
        expiry = (expiry << 4) | static_cast<std::uint64_t>(digit);
    }
    const std::string expected = mac_hex(expiry, client);
    if (CRYPTO_memcmp(expected.data(), nonce.data() + expiry_digits, mac_digits) != 0) {
        return NonceCheck::invalid;
    }
    return static_cast<std::int64_t>(expiry) < now_unix ? NonceCheck::stale : NonceCheck::valid;
}

}  // namespace hearth::auth
