#pragma once

// The in-memory session store: the default for a single node and for development.
// Shared by every worker thread; a mutex guards it because it is reached only when an
// allocation is made, refreshed or ends, never per packet.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "auth/session_store.h"

namespace hearth::auth {

class EmbeddedSessionStore final : public SessionStore {
  public:
    void put(Session session);
    // Reload: these sessions from now on. A session that stays keeps its count of
    // allocations; one that is gone is forgotten.
    void replace_sessions(const std::vector<Session>& sessions);
    // Whether `user_id` may hold an allocation of the session now (judge() says allowed).
    bool is_live(std::string_view session_id, std::string_view user_id,
                 std::int64_t now_unix) const;
    bool end_session(std::string_view id);
    bool remove_participant(std::string_view session_id, std::string_view user_id);
    std::vector<Session> sessions() const;
    std::uint32_t allocations_of(std::string_view session_id) const;

    void reserve_allocation(std::string_view session_id, std::string_view user_id,
                            std::int64_t now_unix, PastTheCap past_the_cap,
                            VerdictCallback done) override;
    void release_allocation(std::string_view session_id, std::string_view user_id) override;
    void check_session(std::string_view session_id, std::string_view user_id, std::int64_t now_unix,
                       VerdictCallback done) override;

  private:
    struct Entry {
        Session session;
        std::uint32_t allocations = 0;
    };
    static SessionVerdict take_slot(Entry& entry, PastTheCap past_the_cap);
    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> sessions_;
};

}  // namespace hearth::auth
