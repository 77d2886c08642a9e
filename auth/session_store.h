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
    // A rejoin past the cap (PastTheCap::replace_idle): admitted on the slot of one of the
    // user's idle allocations, which the node deletes without giving the slot back. The
    // session's count is unchanged.
    allowed_by_replacement,
};
const char* to_string(SessionVerdict verdict);

// What a reservation does when the session's cap is reached. A node asks to replace only
// for a user that holds an allocation of the session idle for limits.rejoin_idle_seconds
// (relay/turn/allocation_quota.h): a browser that crashed and rejoins is not refused
// because its dead allocations still count.
enum class PastTheCap : std::uint8_t { refuse, replace_idle };

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
    // session's cap is taken, atomically with the check. With PastTheCap::replace_idle a
    // session at its cap answers `allowed_by_replacement` and takes nothing, provided the
    // asking node holds at least one of the session's slots (the one it hands over).
    virtual void reserve_allocation(std::string_view session_id, std::string_view user_id,
                                    std::int64_t now_unix, PastTheCap past_the_cap,
                                    VerdictCallback done) = 0;
    // Gives back a slot taken by reserve_allocation.
    virtual void release_allocation(std::string_view session_id, std::string_view user_id) = 0;
    // Refresh: the same checks without touching the cap.
    virtual void check_session(std::string_view session_id, std::string_view user_id,
                               std::int64_t now_unix, VerdictCallback done) = 0;
};

}  // namespace hearth::auth
