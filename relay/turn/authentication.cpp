// The long-term credential check of every request but Binding (RFC 8489 §9.2.4), and what
// failing it costs the source: the bans of source_ban_list.h. None of them ever refuses a
// valid credential whose username has not failed itself, so a stranger sharing a NAT
// address with a participant cannot lock the participant out; and Binding, which needs no
// credential, is never banned at all.

#include "relay/stun/attributes.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

namespace attribute = stun::attribute;

namespace {

// The username a request claims, "" when none. Only a request with an integrity attribute is
// looked up: the first, unauthenticated Allocate must always get its nonce. A USERHASH
// (RFC 8489 §14.4) can only name the username of the allocation on its 5-tuple.
std::string_view username_of(const stun::MessageView& message, const Allocation* existing) {
    if (!message.has(attribute::message_integrity) &&
        !message.has(attribute::message_integrity_sha256)) {
        return {};
    }
    if (!message.has(attribute::username) && message.has(attribute::userhash)) {
        return existing != nullptr ? std::string_view(existing->owner().username)
                                   : std::string_view();
    }
    const auto value = message.find(attribute::username);
    const auto username = value ? stun::decode_username(*value) : std::nullopt;
    return username.value_or(std::string_view{});
}

}  // namespace

std::optional<TurnServer::StunOutcome> TurnServer::authenticate(Request& request,
                                                                const Allocation* existing) {
    const auto& source = request.tuple.client.ip;
    const TimePoint now = request.now.monotonic;
    const std::string_view username = username_of(request.message, existing);
    const auto standing = shared_.auth_bans.standing(source, username, now);
    // A username banned from this source is dropped before the HMAC work: repeating it
    // costs the guesser a round trip and the relay a table lookup.
    if (standing == SourceBanList::Standing::username_banned) {
        ++counters_.banned_drops;
        return StunOutcome{};
    }
    // A throttled source's credentials are checked as strangers' requests are answered:
    // within the per-source unauthenticated rate, so fresh usernames buy no more HMACs.
    const bool throttled = standing == SourceBanList::Standing::source_throttled;
    if (throttled && !username.empty() && !shared_.unauthenticated_requests.allow(source, now)) {
        ++counters_.rate_limited;
        return StunOutcome{};
    }
    auto credentials = authenticator_.authenticate(
        request.message, source, request.now.unix_seconds,
        existing != nullptr ? std::string_view(existing->owner().username) : std::string_view());
    if (!credentials) {
        return refuse_credentials(request, credentials.error(), username, throttled);
    }
    request.credentials = std::move(*credentials);
    return std::nullopt;
}

TurnServer::StunOutcome TurnServer::refuse_credentials(Request& request, AuthFailure failure,
                                                       std::string_view username, bool throttled) {
    const auto& source = request.tuple.client.ip;
    ++counters_.auth_failures;
    ++(counters_.*auth_failure_counters[static_cast<std::size_t>(failure)]);
    // Only wrong usernames and passwords count towards the bans: failures before the nonce
    // are the protocol at work (the first Allocate, a stale nonce) or could come from anyone
    // spoofing the source, and are answered as before so that a client gets its nonce; a
    // bid-down or an unknown USERHASH guesses nothing.
    if (counts_towards_a_ban(failure)) {
        const auto started =
            shared_.auth_bans.record_failure(source, username, request.now.monotonic);
        const Seconds ban = shared_.auth_bans.ban_duration();
        if (started.username_ban) {
            ++counters_.bans;
            events_.username_banned(source, username, ban);
        }
        if (started.source_throttle) {
            ++counters_.source_throttles;
            events_.source_throttled(source, ban);
        }
        if (throttled || started.source_throttle) {
            ++counters_.throttled_drops;  // a guesser learns nothing, not even a 401
            return {};
        }
    }
    return unauthenticated_error(request.message, request.tuple, error_of(failure),
                                 to_string(failure), request.now);
}

}  // namespace hearth::turn
