#pragma once

// The long-term credential mechanism (RFC 8489 §9.2) with TURN REST credentials and the
// session store: the bridge between the state machine and auth/.

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/nonce.h"
#include "auth/secret_ring.h"
#include "auth/session_store.h"
#include "relay/turn/authenticator.h"
#include "relay/turn/long_term_credentials.h"

namespace hearth::relay {

class CredentialAuthenticator final : public turn::Authenticator, private turn::CredentialSource {
  public:
    // `post_to_worker` runs a task on the owning worker's thread: a store that answers
    // later (Redis) answers on its own thread. `on_answer` then tells the worker which
    // question was answered, so that it hands in again the requests parked under it.
    using Post = std::function<void(std::function<void()>)>;
    using Answered = std::function<void(const turn::StoreQuestion&)>;
    CredentialAuthenticator(std::string realm, auth::SecretRing secrets,
                            std::array<std::byte, 32> nonce_key,
                            std::chrono::seconds nonce_lifetime, auth::SessionStore& sessions,
                            Post post_to_worker, Answered on_answer);

    std::string_view realm() const override { return realm_; }
    // Reload: the ring checked from now on (the owning worker's thread).
    void replace_secrets(auth::SecretRing secrets) { secrets_ = std::move(secrets); }
    // Reload: the realm answered and checked, and how long new nonces last.
    void configure(std::string realm, std::chrono::seconds nonce_lifetime) {
        realm_ = std::move(realm);
        nonces_.set_validity(nonce_lifetime);
    }
    std::string issue_nonce(const IpAddress& client, std::int64_t now_unix,
                            stun::SecurityFeatures features) override;
    std::expected<turn::Credentials, turn::AuthFailure> authenticate(
        const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix,
        std::string_view allocation_username) override;
    turn::SessionRefusal admit_allocation(const turn::Owner& owner, std::int64_t now_unix,
                                          turn::PastSessionCap past_the_cap) override;
    void release_allocation(const turn::Owner& owner) override;
    turn::SessionRefusal check_session(const turn::Owner& owner, std::int64_t now_unix) override;
    // Drops the store's answers that no request came back for within answer_lifetime (its
    // client went away, the node began to drain) and gives back the slots they held:
    // otherwise a slot stays taken until that user asks again. Run every second.
    void forget_unclaimed_answers(turn::Clock::time_point now);

  private:
    // turn::CredentialSource: stateless nonces (auth/nonce.h), TURN REST usernames, and a
    // password per active secret of the ring.
    std::optional<stun::SecurityFeatures> valid_nonce(std::string_view nonce,
                                                      const IpAddress& client,
                                                      std::int64_t now_unix) override;
    std::expected<turn::Owner, turn::AuthFailure> owner_of(std::string_view username,
                                                           std::int64_t now_unix) override;
    std::vector<std::string> passwords_of(std::string_view username) override;

    static constexpr std::chrono::seconds answer_lifetime{5};
    // A question asked this long ago without an answer is asked again: its call was lost.
    static constexpr std::chrono::seconds lost_after{10};
    // What the store said, kept for the requests that come back for it: a check's answer
    // for the requests parked under it, an admission (a slot of the cap) for one of them.
    struct Answer {
        auth::SessionVerdict verdict = auth::SessionVerdict::store_unavailable;
        bool reserved = false;  // Allocate: a slot of the cap is held for the request
        turn::Clock::time_point at;
    };
    turn::SessionRefusal ask(const turn::StoreQuestion& question, std::int64_t now_unix);
    std::optional<turn::SessionRefusal> collect(const turn::StoreQuestion& question,
                                                turn::Clock::time_point now);
    void answered(const turn::StoreQuestion& question, auth::SessionVerdict verdict);

    std::string realm_;
    auth::SecretRing secrets_;
    auth::NonceIssuer nonces_;
    auth::SessionStore& sessions_;
    Post post_to_worker_;
    Answered on_answer_;
    std::unordered_map<turn::StoreQuestion, Answer, turn::StoreQuestionHash> answers_;
    std::unordered_map<turn::StoreQuestion, turn::Clock::time_point, turn::StoreQuestionHash>
        in_flight_;
};

}  // namespace hearth::relay
