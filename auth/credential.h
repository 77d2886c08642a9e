#pragma once

// TURN REST API credentials, the convention the signaling backend mints with:
// username "<expiry-unix>:<session-id>:<user-id>", password base64(HMAC-SHA1(secret, username)).

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace hearth::auth {

struct TurnUsername {
    std::int64_t expiry_unix = 0;
    std::string_view session_id;
    std::string_view user_id;
};

enum class UsernameError : std::uint8_t {
    malformed,   // not three fields separated by ':'
    bad_expiry,  // not a decimal Unix time
    empty_session,
    empty_user,
    too_long,
    bad_character,  // ids are [A-Za-z0-9._@-]{1,128}
};
const char* to_string(UsernameError error);

// The views point into `username`.
std::expected<TurnUsername, UsernameError> parse_username(std::string_view username);
std::string make_username(std::int64_t expiry_unix, std::string_view session_id,
                          std::string_view user_id);
std::string mint_password(std::string_view secret, std::string_view username);

// True for a session or user id hearth accepts: 1 to 128 of [A-Za-z0-9._@-].
bool is_valid_id(std::string_view id);

}  // namespace hearth::auth
