#pragma once

#include <string_view>

namespace hearth::turn {

// Every error hearth answers with, and its code (RFC 8489 §14.8, RFC 8656 §19).
// The reason phrases live in one place: turn_error.cpp.
enum class TurnError {
    try_alternate = 300,
    bad_request = 400,
    unauthorized = 401,
    forbidden = 403,
    unknown_attribute = 420,
    allocation_mismatch = 437,
    stale_nonce = 438,
    address_family_not_supported = 440,
    wrong_credentials = 441,
    unsupported_transport_protocol = 442,
    peer_address_family_mismatch = 443,
    connection_already_exists = 446,  // RFC 6062 §6.3
    connection_timeout_or_failure = 447,
    allocation_quota_reached = 486,
    server_error = 500,
    insufficient_capacity = 508,
};

constexpr int code_of(TurnError error) {
    return static_cast<int>(error);
}
const char* reason_phrase(TurnError error);

// A request refused: the error the client is answered with, and why in words for the log.
struct RequestRefusal {
    TurnError error;
    std::string_view why;
};

}  // namespace hearth::turn
