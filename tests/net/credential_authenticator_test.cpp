// CredentialAuthenticator with a session store that answers later, as Redis does.

#include "relay/net/credential_authenticator.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "auth/credential.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {
namespace {

class LaterStore final : public auth::SessionStore {
  public:
    void reserve_allocation(std::string_view, std::string_view, std::int64_t,
                            auth::PastTheCap past_the_cap, auth::VerdictCallback done) override {
        reservations.push_back(past_the_cap);
        pending.push_back(std::move(done));
    }
    void release_allocation(std::string_view session_id, std::string_view user_id) override {
        released.emplace_back(std::string(session_id) + "/" + std::string(user_id));
    }
    void check_session(std::string_view, std::string_view, std::int64_t,
                       auth::VerdictCallback done) override {
        pending.push_back(std::move(done));
    }
    std::vector<auth::VerdictCallback> pending;
    std::vector<std::string> released;
    std::vector<auth::PastTheCap> reservations;  // what each reservation asked past the cap
};

class CredentialAuthenticatorTest : public ::testing::Test {
  protected:
    LaterStore store_;
    std::vector<std::function<void()>> posted_;
    std::vector<turn::StoreQuestion> answered_;
    // What the worker does with an answer: hand in again what was parked under it.
    std::function<void(const turn::StoreQuestion&)> resume_ = [](const turn::StoreQuestion&) {};
    // Answers are posted to the worker; here they run when the test says.
    CredentialAuthenticator authenticator_{
        "hearth",
        {},
        {},
        std::chrono::seconds(600),
        store_,
        [this](std::function<void()> task) { posted_.push_back(std::move(task)); },
        [this](const turn::StoreQuestion& question) {
            answered_.push_back(question);
            resume_(question);
        }};
    const turn::Owner alice_{"1:s1:alice", "s1", "alice", 0};
    const turn::Owner bob_{"1:s1:bob", "s1", "bob", 0};

    void answer_all(auth::SessionVerdict verdict) {
        for (auto& done : std::exchange(store_.pending, {})) {
            done(verdict);
        }
        for (auto& task : std::exchange(posted_, {})) {
            task();
        }
    }
};

TEST_F(CredentialAuthenticatorTest, AReservationCollectedByItsRequestIsKept) {
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed);
    ASSERT_EQ(answered_.size(), 1u);
    EXPECT_EQ(answered_[0], (turn::StoreQuestion{turn::StoreQuestion::Kind::admit, "s1", "alice"}));
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::none);
    authenticator_.forget_unclaimed_answers(turn::Clock::now() + std::chrono::seconds(60));
    EXPECT_TRUE(store_.released.empty());  // the allocation holds the slot now
}

TEST_F(CredentialAuthenticatorTest, AReservationNobodyCameBackForIsGivenBack) {
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed);
    // The client went away before its set-aside Allocate was handed in again.
    authenticator_.forget_unclaimed_answers(turn::Clock::now());
    EXPECT_TRUE(store_.released.empty());  // still within the answer's lifetime
    authenticator_.forget_unclaimed_answers(turn::Clock::now() + std::chrono::seconds(6));
    EXPECT_EQ(store_.released, std::vector<std::string>{"s1/alice"});
    // Forgotten: the next Allocate asks the store again.
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::pending);
    EXPECT_EQ(store_.pending.size(), 1u);
}

TEST_F(CredentialAuthenticatorTest, AnUnclaimedRefusalOrCheckHoldsNothingToGiveBack) {
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::cap_reached);
    EXPECT_EQ(authenticator_.check_session(alice_, 0), turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed);
    authenticator_.forget_unclaimed_answers(turn::Clock::now() + std::chrono::seconds(6));
    EXPECT_TRUE(store_.released.empty());
}

TEST_F(CredentialAuthenticatorTest, OneStoreCallPerQuestionWhileItIsAsked) {
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(authenticator_.check_session(alice_, 0), turn::SessionRefusal::pending);
    }
    EXPECT_EQ(store_.pending.size(), 1u);
    const turn::Owner bob{"1:s1:bob", "s1", "bob", 0};
    EXPECT_EQ(authenticator_.check_session(bob, 0), turn::SessionRefusal::pending);
    EXPECT_EQ(store_.pending.size(), 2u);  // another question, another call
}

TEST_F(CredentialAuthenticatorTest, ACheckAnswerServesEveryRequestResumedByIt) {
    EXPECT_EQ(authenticator_.check_session(alice_, 0), turn::SessionRefusal::pending);
    std::vector<turn::SessionRefusal> resumed;
    resume_ = [&](const turn::StoreQuestion&) {
        for (int i = 0; i < 3; ++i) {  // three Refreshes were parked under it
            resumed.push_back(authenticator_.check_session(alice_, 0));
        }
    };
    answer_all(auth::SessionVerdict::allowed);
    EXPECT_EQ(resumed, std::vector<turn::SessionRefusal>(3, turn::SessionRefusal::none));
    EXPECT_TRUE(store_.pending.empty());
    // Once they have had it, the next Refresh asks the store again.
    EXPECT_EQ(authenticator_.check_session(alice_, 0), turn::SessionRefusal::pending);
}

TEST_F(CredentialAuthenticatorTest, AnAdmissionIsTakenByOneRequestOnly) {
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::pending);
    std::vector<turn::SessionRefusal> resumed;
    resume_ = [&](const turn::StoreQuestion&) {
        resumed.push_back(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse));
        resumed.push_back(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse));
    };
    answer_all(auth::SessionVerdict::allowed);
    // One slot was reserved: the first gets it, the second asks for a slot of its own.
    EXPECT_EQ(resumed, (std::vector{turn::SessionRefusal::none, turn::SessionRefusal::pending}));
    EXPECT_EQ(store_.pending.size(), 1u);
}

// A rejoin's reservation may be answered with a replacement, a plain one may not: they
// are two questions, so neither is handed the other's answer, and each asks the store
// what it means.
TEST_F(CredentialAuthenticatorTest, AReservationThatMayReplaceIsAQuestionOfItsOwn) {
    constexpr auto replace = turn::PastSessionCap::replace_idle;
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, replace), turn::SessionRefusal::pending);
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::pending);
    EXPECT_EQ(store_.reservations,
              (std::vector{auth::PastTheCap::replace_idle, auth::PastTheCap::refuse}));
    store_.pending[0](auth::SessionVerdict::allowed_by_replacement);
    store_.pending[1](auth::SessionVerdict::cap_reached);
    store_.pending.clear();
    for (auto& task : std::exchange(posted_, {})) {
        task();
    }
    EXPECT_EQ(answered_, (std::vector<turn::StoreQuestion>{
                             {turn::StoreQuestion::Kind::admit_or_replace, "s1", "alice"},
                             {turn::StoreQuestion::Kind::admit, "s1", "alice"}}));
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, turn::PastSessionCap::refuse),
              turn::SessionRefusal::cap_reached);
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, replace),
              turn::SessionRefusal::replaces_idle);
    // Taken by one request, as any admission.
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, replace), turn::SessionRefusal::pending);
}

TEST_F(CredentialAuthenticatorTest, AnUnclaimedReplacementHoldsNoSlotToGiveBack) {
    constexpr auto replace = turn::PastSessionCap::replace_idle;
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0, replace), turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed_by_replacement);
    EXPECT_EQ(authenticator_.admit_allocation(bob_, 0, replace), turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed);  // room: bob's holds a slot of its own
    authenticator_.forget_unclaimed_answers(turn::Clock::now() + std::chrono::seconds(6));
    EXPECT_EQ(store_.released, std::vector<std::string>{"s1/bob"});
}

// The long-term credential check with TURN REST credentials and hearth's own nonces
// (RFC 8489 §9.2): what a browser sends, what an RFC 8489 client sends, and the bid-down.
class TurnRestCredentialsTest : public ::testing::Test {
  protected:
    TurnRestCredentialsTest() {
        auth::SecretRing ring;
        ring.add({"old", "the-old-secret"});
        ring.add({"new", "the-new-secret"});
        authenticator_.replace_secrets(std::move(ring));
    }
    static constexpr std::int64_t now_ = 1'700'000'000;
    LaterStore store_;
    CredentialAuthenticator authenticator_{"hearth",
                                           {},
                                           auth::NonceIssuer::random_key(),
                                           std::chrono::seconds(600),
                                           store_,
                                           [](std::function<void()>) {},
                                           [](const turn::StoreQuestion&) {}};
    const IpAddress client_ = *IpAddress::parse("198.51.100.7");
    const std::string username_ = auth::make_username(now_ + 3600, "s1", "alice");
    const std::string password_ = auth::mint_password("the-old-secret", username_);

    struct Signing {
        bool sha256 = false;
        bool userhash = false;
        std::optional<stun::Bytes> algorithms = std::nullopt;  // echoed, if not the 401's
    };
    std::expected<turn::Credentials, turn::AuthFailure> authenticate(
        const std::string& nonce, Signing signing, std::string_view allocation_username = "") {
        std::array<std::byte, 512> buffer{};
        stun::MessageBuilder builder(buffer, stun::Method::allocate, stun::MessageClass::request,
                                     stun::TransactionId{});
        if (signing.userhash) {
            builder.add(stun::attribute::userhash, stun::userhash(username_, "hearth"));
        } else {
            builder.add_string(stun::attribute::username, username_);
        }
        builder.add_string(stun::attribute::realm, "hearth");
        builder.add_string(stun::attribute::nonce, nonce);
        if (signing.sha256 || signing.algorithms) {
            builder.add(stun::attribute::password_algorithms,
                        signing.algorithms.value_or(turn::offered_password_algorithms()));
            builder.add(
                stun::attribute::password_algorithm,
                stun::encode_password_algorithm(signing.sha256 ? stun::PasswordAlgorithm::sha256
                                                               : stun::PasswordAlgorithm::md5));
        }
        if (signing.sha256) {
            builder.add_message_integrity_sha256(
                stun::long_term_key_sha256(username_, "hearth", password_));
        } else {
            builder.add_message_integrity(stun::long_term_key_md5(username_, "hearth", password_));
        }
        return authenticator_.authenticate(*stun::MessageView::parse(builder.finish()), client_,
                                           now_, allocation_username);
    }
    std::string nonce(bool anonymity = false) {
        return authenticator_.issue_nonce(client_, now_, {true, anonymity});
    }
};

// turn::max_unauthenticated_answer counts on nonces of this length.
TEST_F(TurnRestCredentialsTest, ItsNoncesAreAsLongAsTheAmplificationBoundAssumes) {
    EXPECT_EQ(nonce(false).size(), turn::max_nonce_size);
    EXPECT_EQ(nonce(true).size(), turn::max_nonce_size);
    EXPECT_TRUE(nonce(false).starts_with("obMatJos2AAAB"));
    EXPECT_TRUE(nonce(true).starts_with("obMatJos2AAAD"));
}

TEST_F(TurnRestCredentialsTest, ABrowserIsCheckedWithMd5) {
    const auto checked = authenticate(nonce(), {});
    ASSERT_TRUE(checked.has_value()) << turn::to_string(checked.error());
    EXPECT_EQ(checked->owner.session_id, "s1");
    EXPECT_EQ(checked->owner.user_id, "alice");
    EXPECT_EQ(checked->key,
              stun::IntegrityKey::md5(stun::long_term_key_md5(username_, "hearth", password_),
                                      stun::IntegrityAttribute::message_integrity));
}

TEST_F(TurnRestCredentialsTest, AnRfc8489ClientIsCheckedWithSha256) {
    const auto checked = authenticate(nonce(), {.sha256 = true});
    ASSERT_TRUE(checked.has_value()) << turn::to_string(checked.error());
    EXPECT_EQ(checked->key,
              stun::IntegrityKey::sha256(stun::long_term_key_sha256(username_, "hearth", password_),
                                         stun::IntegrityAttribute::message_integrity_sha256));
}

TEST_F(TurnRestCredentialsTest, ABidDownIsRefused) {
    const auto md5_only = stun::encode_password_algorithm(stun::PasswordAlgorithm::md5);
    EXPECT_EQ(authenticate(nonce(), {.algorithms = md5_only}),
              std::unexpected(turn::AuthFailure::bid_down));
    // Clearing the nonce's "Password algorithms" bit instead makes it no nonce of ours.
    auto stripped = nonce();
    stripped.replace(stun::nonce_cookie.size(), 4, "AAAA");
    EXPECT_EQ(authenticate(stripped, {.algorithms = md5_only}),
              std::unexpected(turn::AuthFailure::stale_nonce));
}

TEST_F(TurnRestCredentialsTest, AUserhashIsCheckedAgainstTheAllocationsUsername) {
    EXPECT_EQ(authenticate(nonce(true), {.sha256 = true, .userhash = true}),
              std::unexpected(turn::AuthFailure::unknown_userhash));
    const auto other = auth::make_username(now_ + 3600, "s1", "bob");
    EXPECT_EQ(authenticate(nonce(true), {.sha256 = true, .userhash = true}, other),
              std::unexpected(turn::AuthFailure::unknown_userhash));
    const auto checked = authenticate(nonce(true), {.sha256 = true, .userhash = true}, username_);
    ASSERT_TRUE(checked.has_value()) << turn::to_string(checked.error());
    EXPECT_EQ(checked->owner.username, username_);
}

}  // namespace
}  // namespace hearth::relay
