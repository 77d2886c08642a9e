#include "relay/net/credential_authenticator.h"

#include <memory>
#include <mutex>
#include <optional>

#include "auth/credential.h"

namespace hearth::relay {

namespace {

turn::SessionRefusal refusal_of(auth::SessionVerdict verdict) {
    switch (verdict) {
        case auth::SessionVerdict::allowed:
            return turn::SessionRefusal::none;
        case auth::SessionVerdict::unknown_session:
            return turn::SessionRefusal::unknown_session;
        case auth::SessionVerdict::not_active:
            return turn::SessionRefusal::not_active;
        case auth::SessionVerdict::outside_window:
            return turn::SessionRefusal::outside_window;
        case auth::SessionVerdict::not_participant:
            return turn::SessionRefusal::not_participant;
        case auth::SessionVerdict::cap_reached:
            return turn::SessionRefusal::cap_reached;
        case auth::SessionVerdict::store_unavailable:
            return turn::SessionRefusal::store_unavailable;
        case auth::SessionVerdict::allowed_by_replacement:
            return turn::SessionRefusal::replaces_idle;
    }
    return turn::SessionRefusal::store_unavailable;
}

}  // namespace

CredentialAuthenticator::CredentialAuthenticator(std::string realm, auth::SecretRing secrets,
                                                 std::array<std::byte, 32> nonce_key,
                                                 std::chrono::seconds nonce_lifetime,
                                                 auth::SessionStore& sessions, Post post_to_worker,
                                                 Answered on_answer)
    : realm_(std::move(realm)),
      secrets_(std::move(secrets)),
      nonces_(nonce_key, nonce_lifetime),
      sessions_(sessions),
      post_to_worker_(std::move(post_to_worker)),
      on_answer_(std::move(on_answer)) {}

std::string CredentialAuthenticator::issue_nonce(const IpAddress& client, std::int64_t now_unix,
                                                 stun::SecurityFeatures features) {
    return nonces_.issue(client, now_unix, features);
}

std::expected<turn::Credentials, turn::AuthFailure> CredentialAuthenticator::authenticate(
    const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix,
    std::string_view allocation_username) {
    const std::array<std::string_view, 1> allocation{allocation_username};
    const turn::CredentialCheck check{
        .realm = realm_,
        .client = client,
        .now_unix = now_unix,
        .userhash_candidates = allocation_username.empty() ? std::span<const std::string_view>()
                                                           : std::span(allocation)};
    return turn::check_long_term_credentials(request, check, *this);
}

std::optional<stun::SecurityFeatures> CredentialAuthenticator::valid_nonce(std::string_view nonce,
                                                                           const IpAddress& client,
                                                                           std::int64_t now_unix) {
    const auto checked = nonces_.check(nonce, client, now_unix);
    if (checked.verdict != auth::NonceCheck::valid) {
        return std::nullopt;
    }
    return checked.features;
}

std::expected<turn::Owner, turn::AuthFailure> CredentialAuthenticator::owner_of(
    std::string_view username, std::int64_t now_unix) {
    const auto parsed = auth::parse_username(username);
    if (!parsed) {
        return std::unexpected(turn::AuthFailure::malformed_username);
    }
    if (parsed->expiry_unix < now_unix) {
        return std::unexpected(turn::AuthFailure::expired_username);
    }
    return turn::Owner{std::string(username), std::string(parsed->session_id),
                       std::string(parsed->user_id), parsed->expiry_unix};
}

std::vector<std::string> CredentialAuthenticator::passwords_of(std::string_view username) {
    std::vector<std::string> passwords;
    passwords.reserve(secrets_.active().size());
    for (const auto& secret : secrets_.active()) {
        passwords.push_back(auth::mint_password(secret.value, username));
    }
    return passwords;
}

turn::SessionRefusal CredentialAuthenticator::admit_allocation(const turn::Owner& owner,
                                                               std::int64_t now_unix,
                                                               turn::PastSessionCap past_the_cap) {
    // Two questions: parked requests that may replace must not be handed an answer that
    // may not (or the reverse), so each waits on the answer to what it asked.
    const auto kind = past_the_cap == turn::PastSessionCap::replace_idle
                          ? turn::StoreQuestion::Kind::admit_or_replace
                          : turn::StoreQuestion::Kind::admit;
    return ask({kind, owner.session_id, owner.user_id}, now_unix);
}

void CredentialAuthenticator::release_allocation(const turn::Owner& owner) {
    sessions_.release_allocation(owner.session_id, owner.user_id);
}

turn::SessionRefusal CredentialAuthenticator::check_session(const turn::Owner& owner,
                                                            std::int64_t now_unix) {
    return ask({turn::StoreQuestion::Kind::check, owner.session_id, owner.user_id}, now_unix);
}

void CredentialAuthenticator::forget_unclaimed_answers(turn::Clock::time_point now) {
    std::erase_if(answers_, [&](const auto& entry) {
        const auto& [question, answer] = entry;
        if (now - answer.at < answer_lifetime) {
            return false;
        }
        if (answer.reserved) {
            sessions_.release_allocation(question.session_id, question.user_id);
        }
        return true;
    });
}

// An answer already here for `question`, if any. An admission is taken by the one
// request that collects it; a check's answer serves every request that asks while it is
// fresh.
std::optional<turn::SessionRefusal> CredentialAuthenticator::collect(
    const turn::StoreQuestion& question, turn::Clock::time_point now) {
    const auto found = answers_.find(question);
    if (found == answers_.end()) {
        return std::nullopt;
    }
    const Answer answer = found->second;
    const bool fresh = now - answer.at < answer_lifetime;
    if (question.kind != turn::StoreQuestion::Kind::check || !fresh) {
        answers_.erase(found);
    }
    if (fresh) {
        return refusal_of(answer.verdict);
    }
    if (answer.reserved) {
        sessions_.release_allocation(question.session_id, question.user_id);
    }
    return std::nullopt;
}

// Runs on the worker's thread: keeps the answer, hands in again the requests parked
// under the question, and drops a check's answer once they have had it.
void CredentialAuthenticator::answered(const turn::StoreQuestion& question,
                                       auth::SessionVerdict verdict) {
    in_flight_.erase(question);
    // A replacement holds no slot of its own: nothing to give back if nobody collects it.
    const bool reserved = question.kind != turn::StoreQuestion::Kind::check &&
                          verdict == auth::SessionVerdict::allowed;
    answers_[question] = Answer{verdict, reserved, turn::Clock::now()};
    on_answer_(question);
    if (question.kind == turn::StoreQuestion::Kind::check) {
        answers_.erase(question);
    }
}

// Asks the store. The embedded store answers inside the call; Redis answers later, on its
// own thread: the answer is then posted to this worker (answered()), which resumes the
// requests parked under the question, and they find it here.
turn::SessionRefusal CredentialAuthenticator::ask(const turn::StoreQuestion& question,
                                                  std::int64_t now_unix) {
    const auto now = turn::Clock::now();
    if (const auto collected = collect(question, now)) {
        return *collected;
    }
    if (const auto asked = in_flight_.find(question);
        asked != in_flight_.end() && now - asked->second < lost_after) {
        return turn::SessionRefusal::pending;  // one call at a time per question
    }
    // The answer may come on the store's thread before this call has returned: the mutex
    // decides whether it was an immediate answer or a later one.
    struct Call {
        std::mutex mutex;
        bool returned = false;
        std::optional<auth::SessionVerdict> immediate;
    };
    auto call = std::make_shared<Call>();
    auto done = [this, call, question](auth::SessionVerdict verdict) {
        {
            std::lock_guard lock(call->mutex);
            if (!call->returned) {
                call->immediate = verdict;  // answered inside the call
                return;
            }
        }
        post_to_worker_([this, question, verdict] { answered(question, verdict); });
    };
    if (question.kind != turn::StoreQuestion::Kind::check) {
        const auto past_the_cap = question.kind == turn::StoreQuestion::Kind::admit_or_replace
                                      ? auth::PastTheCap::replace_idle
                                      : auth::PastTheCap::refuse;
        sessions_.reserve_allocation(question.session_id, question.user_id, now_unix, past_the_cap,
                                     done);
    } else {
        sessions_.check_session(question.session_id, question.user_id, now_unix, done);
    }
    {
        std::lock_guard lock(call->mutex);
        call->returned = true;
        if (call->immediate) {
            return refusal_of(*call->immediate);
        }
    }
    in_flight_[question] = now;
    return turn::SessionRefusal::pending;
}

}  // namespace hearth::relay
