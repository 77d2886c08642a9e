#pragma once

// Therapy sessions as hearth sees them, and the store that answers for them: embedded in
// memory for one node and for development, Redis in production. Asynchronous by design
// so a store on the network never blocks an event loop.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::auth {

enum class SessionVerdict : std::uint8_t {
    allowed,
    unknown_session,
    not_active,
    outside_window,
    not_participant,
    cap_reached,
    store_unavailable,
};
const char* to_string(SessionVerdict verdict);

enum class SessionState : std::uint8_t { scheduled, active, ended };
const char* to_string(SessionState state);

struct Session {
    std::string id;
    SessionState state = SessionState::active;
    std::vector<std::string> participants;
    std::int64_t not_before_unix = 0;  // 0: no lower bound
    std::int64_t not_after_unix = 0;   // 0: no upper bound
    std::uint32_t allocation_cap = 4;
    bool operator==(const Session&) const = default;
};

// The checks every store applies to a session it found (DESIGN.md flow 3).
SessionVerdict judge(const Session& session, std::string_view user_id, std::int64_t now_unix);

using VerdictCallback = std::function<void(SessionVerdict)>;

class SessionStore {
  public:
    virtual ~SessionStore() = default;
    // Allocate: state, window, participant and cap; on `allowed` one slot of the
    // session's cap is taken, atomically with the check.
    virtual void reserve_allocation(std::string_view session_id, std::string_view user_id,
                                    std::int64_t now_unix, VerdictCallback done) = 0;
    // Gives back a slot taken by reserve_allocation.
    virtual void release_allocation(std::string_view session_id, std::string_view user_id) = 0;
    // Refresh: the same checks without touching the cap.
    virtual void check_session(std::string_view session_id, std::string_view user_id,
                               std::int64_t now_unix, VerdictCallback done) = 0;
};

}  // namespace hearth::auth
