#include "auth/embedded_session_store.h"

#include <algorithm>

namespace hearth::auth {

void EmbeddedSessionStore::put(Session session) {
    std::lock_guard lock(mutex_);
    auto& entry = sessions_[session.id];
    entry.session = std::move(session);
}

void EmbeddedSessionStore::replace_sessions(const std::vector<Session>& sessions) {
    std::lock_guard lock(mutex_);
    std::map<std::string, Entry, std::less<>> replaced;
    for (const auto& session : sessions) {
        const auto kept = sessions_.find(session.id);
        replaced[session.id] =
            Entry{session, kept == sessions_.end() ? 0 : kept->second.allocations};
    }
    sessions_ = std::move(replaced);
}

bool EmbeddedSessionStore::is_live(std::string_view session_id, std::string_view user_id,
                                   std::int64_t now_unix) const {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(session_id);
    return found != sessions_.end() &&
           judge(found->second.session, user_id, now_unix) == SessionVerdict::allowed;
}

bool EmbeddedSessionStore::end_session(std::string_view id) {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(id);
    if (found == sessions_.end()) {
        return false;
    }
    found->second.session.state = SessionState::ended;
    return true;
}

bool EmbeddedSessionStore::remove_participant(std::string_view session_id,
                                              std::string_view user_id) {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(session_id);
    if (found == sessions_.end()) {
        return false;
    }
    auto& participants = found->second.session.participants;
    const auto user = std::find(participants.begin(), participants.end(), user_id);
    if (user == participants.end()) {
        return false;
    }
    participants.erase(user);
    return true;
}

std::vector<Session> EmbeddedSessionStore::sessions() const {
    std::lock_guard lock(mutex_);
    std::vector<Session> all;
    for (const auto& [id, entry] : sessions_) {
        all.push_back(entry.session);
    }
    return all;
}

std::uint32_t EmbeddedSessionStore::allocations_of(std::string_view session_id) const {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(session_id);
    return found == sessions_.end() ? 0 : found->second.allocations;
}

void EmbeddedSessionStore::reserve_allocation(std::string_view session_id, std::string_view user_id,
                                              std::int64_t now_unix, PastTheCap past_the_cap,
                                              VerdictCallback done) {
    SessionVerdict verdict = SessionVerdict::unknown_session;
    {
        std::lock_guard lock(mutex_);
        const auto found = sessions_.find(session_id);
        if (found != sessions_.end()) {
            auto& entry = found->second;
            verdict = judge(entry.session, user_id, now_unix);
            if (verdict == SessionVerdict::allowed) {
                verdict = take_slot(entry, past_the_cap);
            }
        }
    }
    done(verdict);
}

// As the Redis script does: past the cap, a replacement takes the slot of an allocation
// the node holds (here every counted one), so the count stays as it is.
SessionVerdict EmbeddedSessionStore::take_slot(Entry& entry, PastTheCap past_the_cap) {
    if (entry.allocations < entry.session.allocation_cap) {
        ++entry.allocations;
        return SessionVerdict::allowed;
    }
    if (past_the_cap == PastTheCap::replace_idle && entry.allocations > 0) {
        return SessionVerdict::allowed_by_replacement;
    }
    return SessionVerdict::cap_reached;
}

void EmbeddedSessionStore::release_allocation(std::string_view session_id, std::string_view) {
    std::lock_guard lock(mutex_);
    const auto found = sessions_.find(session_id);
    if (found != sessions_.end() && found->second.allocations > 0) {
        --found->second.allocations;
    }
}

void EmbeddedSessionStore::check_session(std::string_view session_id, std::string_view user_id,
                                         std::int64_t now_unix, VerdictCallback done) {
    SessionVerdict verdict = SessionVerdict::unknown_session;
    {
        std::lock_guard lock(mutex_);
        const auto found = sessions_.find(session_id);
        if (found != sessions_.end()) {
            verdict = judge(found->second.session, user_id, now_unix);
        }
    }
    done(verdict);
}

}  // namespace hearth::auth
