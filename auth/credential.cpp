#include "auth/credential.h"

#include <array>

#include "auth/base64.h"
#include "relay/stun/integrity.h"

namespace hearth::auth {

namespace {
constexpr std::size_t max_username = 512;  // RFC 8489 §14.3: under 513 bytes
constexpr std::size_t max_id = 128;
// 18 digits always fit an int64; 19 may not (found by the username fuzzer).
constexpr std::size_t max_expiry_digits = 18;
}  // namespace

const char* to_string(UsernameError error) {
    switch (error) {
        case UsernameError::malformed:
            return "not <expiry>:<session>:<user>";
        case UsernameError::bad_expiry:
            return "expiry is not a Unix time";
        case UsernameError::empty_session:
            return "empty session id";
        case UsernameError::empty_user:
            return "empty user id";
        case UsernameError::too_long:
            return "username too long";
        case UsernameError::bad_character:
            return "id has a character outside [A-Za-z0-9._@-]";
    }
    return "?";
}

bool is_valid_id(std::string_view id) {
    if (id.empty() || id.size() > max_id) {
        return false;
    }
    for (const char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::expected<TurnUsername, UsernameError> parse_username(std::string_view username) {
    if (username.size() > max_username) {
        return std::unexpected(UsernameError::too_long);
    }
    const auto first = username.find(':');
    const auto second = first == std::string_view::npos ? first : username.find(':', first + 1);
    if (second == std::string_view::npos ||
        username.find(':', second + 1) != std::string_view::npos) {
        return std::unexpected(UsernameError::malformed);
    }
    const auto expiry_text = username.substr(0, first);
    if (expiry_text.empty() || expiry_text.size() > max_expiry_digits) {
        return std::unexpected(UsernameError::bad_expiry);
    }
    std::int64_t expiry = 0;
    for (const char c : expiry_text) {
        if (c < '0' || c > '9') {
            return std::unexpected(UsernameError::bad_expiry);
        }
        expiry = expiry * 10 + (c - '0');
    }
    TurnUsername parsed;
    parsed.expiry_unix = expiry;
    parsed.session_id = username.substr(first + 1, second - first - 1);
    parsed.user_id = username.substr(second + 1);
    if (parsed.session_id.empty()) {
        return std::unexpected(UsernameError::empty_session);
    }
    if (parsed.user_id.empty()) {
        return std::unexpected(UsernameError::empty_user);
    }
    if (!is_valid_id(parsed.session_id) || !is_valid_id(parsed.user_id)) {
        return std::unexpected(UsernameError::bad_character);
    }
    return parsed;
}

std::string make_username(std::int64_t expiry_unix, std::string_view session_id,
                          std::string_view user_id) {
    std::string username = std::to_string(expiry_unix);
    username += ':';
    username += session_id;
    username += ':';
    username += user_id;
    return username;
}

std::string mint_password(std::string_view secret, std::string_view username) {
    const auto mac = stun::hmac_sha1(
        std::span(reinterpret_cast<const std::byte*>(secret.data()), secret.size()),
        std::span(reinterpret_cast<const std::byte*>(username.data()), username.size()));
    return base64_encode(mac);
}

}  // namespace hearth::auth
