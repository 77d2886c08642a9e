#include "relay/turn/authenticator.h"

#include <functional>

namespace hearth::turn {

const char* to_string(AuthFailure failure) {
    switch (failure) {
        case AuthFailure::missing_integrity:
            return "no MESSAGE-INTEGRITY";
        case AuthFailure::missing_attributes:
            return "USERNAME, REALM or NONCE missing";
        case AuthFailure::wrong_realm:
            return "wrong realm";
        case AuthFailure::stale_nonce:
            return "stale or foreign nonce";
        case AuthFailure::malformed_username:
            return "malformed username";
        case AuthFailure::expired_username:
            return "expired username";
        case AuthFailure::bad_integrity:
            return "wrong password (no secret verifies)";
    }
    return "?";
}

const char* to_string(SessionRefusal refusal) {
    switch (refusal) {
        case SessionRefusal::none:
            return "allowed";
        case SessionRefusal::unknown_session:
            return "unknown session";
        case SessionRefusal::not_active:
            return "session not active";
        case SessionRefusal::outside_window:
            return "outside the session's time window";
        case SessionRefusal::not_participant:
            return "user is not a participant";
        case SessionRefusal::cap_reached:
            return "session allocation cap reached";
        case SessionRefusal::pending:
            return "waiting for the session store";
        case SessionRefusal::store_unavailable:
            return "session store unavailable";
    }
    return "?";
}

std::size_t StoreQuestionHash::operator()(const StoreQuestion& question) const noexcept {
    const std::hash<std::string> hash;
    return hash(question.session_id) * 31 + hash(question.user_id) * 7 +
           static_cast<std::size_t>(question.kind);
}

}  // namespace hearth::turn
