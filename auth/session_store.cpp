#include "auth/session_store.h"

#include <algorithm>

namespace hearth::auth {

const char* to_string(SessionVerdict verdict) {
    switch (verdict) {
        case SessionVerdict::allowed:
            return "allowed";
        case SessionVerdict::unknown_session:
            return "unknown session";
        case SessionVerdict::not_active:
            return "session not active";
        case SessionVerdict::outside_window:
            return "outside the session's time window";
        case SessionVerdict::not_participant:
            return "not a participant";
        case SessionVerdict::cap_reached:
            return "session allocation cap reached";
        case SessionVerdict::store_unavailable:
            return "session store unavailable";
        case SessionVerdict::allowed_by_replacement:
            return "allowed on an idle allocation's slot";
    }
    return "?";
}

const char* to_string(SessionState state) {
    switch (state) {
        case SessionState::scheduled:
            return "scheduled";
        case SessionState::active:
            return "active";
        case SessionState::ended:
            return "ended";
    }
    return "?";
}

SessionVerdict judge(const Session& session, std::string_view user_id, std::int64_t now_unix) {
    if (session.state != SessionState::active) {
        return SessionVerdict::not_active;
    }
    if ((session.not_before_unix != 0 && now_unix < session.not_before_unix) ||
        (session.not_after_unix != 0 && now_unix > session.not_after_unix)) {
        return SessionVerdict::outside_window;
    }
    if (std::find(session.participants.begin(), session.participants.end(), user_id) ==
        session.participants.end()) {
        return SessionVerdict::not_participant;
    }
    return SessionVerdict::allowed;
}

}  // namespace hearth::auth
