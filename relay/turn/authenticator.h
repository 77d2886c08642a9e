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
#include "relay/stun/transport_address.h"
#include "relay/turn/allocation.h"

namespace hearth::turn {

// Why a request's long-term credentials were not accepted (RFC 8489 §9.2.4), in the
// order an authenticator checks them: the nonce before the username and the password.
enum class AuthFailure : std::uint8_t {
    missing_integrity,   // no MESSAGE-INTEGRITY: the first, unauthenticated request
    missing_attributes,  // MESSAGE-INTEGRITY without USERNAME, REALM or NONCE: 400
    wrong_realm,
    stale_nonce,  // expired or not ours: 438 with a fresh nonce
    malformed_username,
    expired_username,
    bad_integrity,  // no active secret gives a key that verifies
};
const char* to_string(AuthFailure failure);

// Whether the request carried a valid nonce. A nonce is bound to the address it was sent
// to, so only then did the request surely come from its source address: a forged UDP
// source cannot get past it, and must not be able to get its victim banned.
constexpr bool passed_the_nonce(AuthFailure failure) {
    return failure > AuthFailure::stale_nonce;
}

struct Credentials {
    Owner owner;
    stun::Md5Key key{};
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
};
const char* to_string(SessionRefusal refusal);

// What a request waits on when the session store answers later (SessionRefusal::pending):
// one user of one session, and whether a slot of the session's cap is wanted (Allocate)
// or only a check (Refresh). One answer resumes every request parked under its question.
struct StoreQuestion {
    enum class Kind : std::uint8_t { admit, check };
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
    virtual std::string issue_nonce(const IpAddress& client, std::int64_t now_unix) = 0;
    virtual std::expected<Credentials, AuthFailure> authenticate(const stun::MessageView& request,
                                                                 const IpAddress& client,
                                                                 std::int64_t now_unix) = 0;
    // Allocate: checks the session and takes one slot of its cap.
    virtual SessionRefusal admit_allocation(const Owner& owner, std::int64_t now_unix) = 0;
    // Gives the slot back when the allocation ends.
    virtual void release_allocation(const Owner& owner) = 0;
    // Refresh: the session is still live and the user still one of its participants.
    virtual SessionRefusal check_session(const Owner& owner, std::int64_t now_unix) = 0;
};

}  // namespace hearth::turn
