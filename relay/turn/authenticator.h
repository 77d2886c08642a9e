#pragma once

// What the state machine needs from the credential layer. The I/O layer implements it
// with auth/ (secrets, nonces, the session store); tests implement it directly.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "relay/stun/nonce_cookie.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/allocation.h"
#include "relay/turn/turn_error.h"

namespace hearth::turn {

// Why a request's long-term credentials were not accepted (RFC 8489 §9.2.4), in the
// order an authenticator checks them: the nonce before the username and the password.
enum class AuthFailure : std::uint8_t {
    missing_integrity,   // no MESSAGE-INTEGRITY(-SHA256): the first, unauthenticated request
    missing_attributes,  // integrity without USERNAME (or USERHASH), REALM or NONCE: 400
    wrong_realm,
    stale_nonce,       // expired or not ours: 438 with a fresh nonce
    bid_down,          // PASSWORD-ALGORITHM(S) not as the nonce's 401 offered them: 400
    unknown_userhash,  // a USERHASH that names no username hearth can check: 401
    malformed_username,
    expired_username,
    bad_integrity,  // no active secret gives a key that verifies
};
const char* to_string(AuthFailure failure);
// The error a request is answered with (RFC 8489 §9.2.4).
TurnError error_of(AuthFailure failure);

// Whether the failure counts towards a ban of the source: a wrong username or password
// behind a valid nonce, the guess a ban stops. A nonce is bound to the address it was sent
// to, so only past it did the request surely come from its source address: a forged UDP
// source cannot get there, and must not be able to get its victim banned. A bid-down or an
// unknown USERHASH guesses no password (and the second comes from honest clients too: its
// 401 lets them retry with USERNAME).
constexpr bool counts_towards_a_ban(AuthFailure failure) {
    return failure >= AuthFailure::malformed_username;
}

// Who sent an authenticated request, and the key its answers are signed with: the
// password algorithm it used and the integrity attribute RFC 8489 §9.2.4 asks for.
struct Credentials {
    Owner owner;
    stun::IntegrityKey key;
};

// Why the session store refused an allocation (DESIGN.md flow 3).
enum class SessionRefusal : std::uint8_t {
    none,
    unknown_session,
    not_active,
    outside_window,
    not_participant,
    cap_reached,
    store_unavailable,
    pending,  // the store answers later: the request is set aside and replayed then
    // Not a refusal: admitted past the session's cap (PastSessionCap::replace_idle) on the
    // slot of one of the user's idle allocations, which the caller deletes without giving
    // that slot back.
    replaces_idle,
};
const char* to_string(SessionRefusal refusal);

// What an Allocate asks of a session whose cap is reached: a refusal, or (a rejoin: the
// user holds an allocation of the session idle for ServerSettings::rejoin_idle) the slot
// of one of the user's idle allocations.
enum class PastSessionCap : std::uint8_t { refuse, replace_idle };

// What a request waits on when the session store answers later (SessionRefusal::pending):
// one user of one session, and whether a slot of the session's cap is wanted (Allocate;
// admit_or_replace when it may replace past the cap, a different answer) or only a check
// (Refresh). One answer resumes every request parked under its question.
struct StoreQuestion {
    enum class Kind : std::uint8_t { admit, check, admit_or_replace };
    Kind kind = Kind::check;
    std::string session_id;
    std::string user_id;
    bool operator==(const StoreQuestion&) const = default;
};
struct StoreQuestionHash {
    std::size_t operator()(const StoreQuestion& question) const noexcept;
};

class Authenticator {
  public:
    virtual ~Authenticator() = default;
    virtual std::string_view realm() const = 0;
    // A nonce for `client` announcing `features` (RFC 8489 §9.2).
    virtual std::string issue_nonce(const IpAddress& client, std::int64_t now_unix,
                                    stun::SecurityFeatures features) = 0;
    // The long-term credential check (RFC 8489 §9.2.4, long_term_credentials.h).
    // `allocation_username` is the username of the allocation on the request's 5-tuple
    // ("" if none): the one a USERHASH may stand for.
    virtual std::expected<Credentials, AuthFailure> authenticate(
        const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix,
        std::string_view allocation_username) = 0;
    // Allocate: checks the session and takes one slot of its cap; past the cap, with
    // PastSessionCap::replace_idle, answers replaces_idle and takes none.
    virtual SessionRefusal admit_allocation(const Owner& owner, std::int64_t now_unix,
                                            PastSessionCap past_the_cap) = 0;
    // Gives the slot back when the allocation ends.
    virtual void release_allocation(const Owner& owner) = 0;
    // Refresh: the session is still live and the user still one of its participants.
    virtual SessionRefusal check_session(const Owner& owner, std::int64_t now_unix) = 0;
};

}  // namespace hearth::turn
