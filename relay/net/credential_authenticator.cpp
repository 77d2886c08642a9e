#include "relay/net/credential_authenticator.h"

#include <memory>
#include <mutex>
#include <optional>

#include "auth/credential.h"
#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"

namespace hearth::relay {

namespace attribute = stun::attribute;

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

std::string CredentialAuthenticator::issue_nonce(const IpAddress& client, std::int64_t now_unix) {
    return nonces_.issue(client, now_unix);
}

std::expected<turn::Credentials, turn::AuthFailure> CredentialAuthenticator::authenticate(
    const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix) {
    using turn::AuthFailure;
    if (!request.has(attribute::message_integrity)) {
        return std::unexpected(AuthFailure::missing_integrity);
    }
    const auto username_value = request.find(attribute::username);
    const auto realm_value = request.find(attribute::realm);
    const auto nonce_value = request.find(attribute::nonce);
    if (!username_value || !realm_value || !nonce_value) {
        return std::unexpected(AuthFailure::missing_attributes);
    }
    const auto username = stun::decode_username(*username_value);
    const auto realm = stun::decode_realm(*realm_value);
    const auto nonce = stun::decode_nonce(*nonce_value);
    if (!username || !realm || !nonce) {
        return std::unexpected(AuthFailure::missing_attributes);
    }
    if (*realm != realm_) {
        return std::unexpected(AuthFailure::wrong_realm);
    }
    // RFC 8489 §9.2.4: a nonce we did not issue, or one that ran out, is stale: the
    // client retries with the fresh one in the 438.
    if (nonces_.check(*nonce, client, now_unix) != auth::NonceCheck::valid) {
        return std::unexpected(AuthFailure::stale_nonce);
    }
    const auto parsed = auth::parse_username(*username);
    if (!parsed) {
        return std::unexpected(AuthFailure::malformed_username);
    }
    if (parsed->expiry_unix < now_unix) {
        return std::unexpected(AuthFailure::expired_username);
    }
    for (const auto& secret : secrets_.active()) {
        const std::string password = auth::mint_password(secret.value, *username);
        const auto key = stun::long_term_key_md5(*username, *realm, password);
        if (stun::verify_message_integrity(request, key)) {
            turn::Credentials credentials;
            credentials.owner.username = std::string(*username);
            credentials.owner.session_id = std::string(parsed->session_id);
            credentials.owner.user_id = std::string(parsed->user_id);
            credentials.owner.credential_expiry_unix = parsed->expiry_unix;
            credentials.key = key;
            return credentials;
        }
    }
    return std::unexpected(AuthFailure::bad_integrity);
}

turn::SessionRefusal CredentialAuthenticator::admit_allocation(const turn::Owner& owner,
                                                               std::int64_t now_unix) {
    return ask({turn::StoreQuestion::Kind::admit, owner.session_id, owner.user_id}, now_unix);
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
    if (question.kind == turn::StoreQuestion::Kind::admit || !fresh) {
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
    const bool reserved = question.kind == turn::StoreQuestion::Kind::admit &&
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
    if (question.kind == turn::StoreQuestion::Kind::admit) {
        sessions_.reserve_allocation(question.session_id, question.user_id, now_unix, done);
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
