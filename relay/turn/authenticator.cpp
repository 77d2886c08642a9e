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
        case AuthFailure::bid_down:
            return "PASSWORD-ALGORITHM(S) not as offered (bid-down)";
        case AuthFailure::unknown_userhash:
            return "USERHASH of no known username";
        case AuthFailure::malformed_username:
            return "malformed username";
        case AuthFailure::expired_username:
            return "expired username";
        case AuthFailure::bad_integrity:
            return "wrong password (no secret verifies)";
    }
    return "?";
}

TurnError error_of(AuthFailure failure) {
    switch (failure) {
        // RFC 8489 §9.2.4: integrity without USERNAME (or USERHASH), REALM or NONCE, and
        // PASSWORD-ALGORITHM(S) other than the nonce's 401 offered, are 400 (Bad Request).
        case AuthFailure::missing_attributes:
        case AuthFailure::bid_down:
            return TurnError::bad_request;
        case AuthFailure::stale_nonce:
            return TurnError::stale_nonce;
        case AuthFailure::missing_integrity:
        case AuthFailure::wrong_realm:
        case AuthFailure::unknown_userhash:
        case AuthFailure::malformed_username:
        case AuthFailure::expired_username:
        case AuthFailure::bad_integrity:
            break;
    }
    return TurnError::unauthorized;
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
        case SessionRefusal::replaces_idle:
            return "allowed on an idle allocation's slot";
    }
    return "?";
}

std::size_t StoreQuestionHash::operator()(const StoreQuestion& question) const noexcept {
    const std::hash<std::string> hash;
    return hash(question.session_id) * 31 + hash(question.user_id) * 7 +
           static_cast<std::size_t>(question.kind);
}

}  // namespace hearth::turn
