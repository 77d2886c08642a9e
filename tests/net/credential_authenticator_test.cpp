// CredentialAuthenticator with a session store that answers later, as Redis does.

#include "relay/net/credential_authenticator.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace hearth::relay {
namespace {

class LaterStore final : public auth::SessionStore {
  public:
    void reserve_allocation(std::string_view, std::string_view, std::int64_t,
                            auth::VerdictCallback done) override {
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
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0), turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed);
    ASSERT_EQ(answered_.size(), 1u);
    EXPECT_EQ(answered_[0], (turn::StoreQuestion{turn::StoreQuestion::Kind::admit, "s1", "alice"}));
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0), turn::SessionRefusal::none);
    authenticator_.forget_unclaimed_answers(turn::Clock::now() + std::chrono::seconds(60));
    EXPECT_TRUE(store_.released.empty());  // the allocation holds the slot now
}

TEST_F(CredentialAuthenticatorTest, AReservationNobodyCameBackForIsGivenBack) {
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0), turn::SessionRefusal::pending);
    answer_all(auth::SessionVerdict::allowed);
    // The client went away before its set-aside Allocate was handed in again.
    authenticator_.forget_unclaimed_answers(turn::Clock::now());
    EXPECT_TRUE(store_.released.empty());  // still within the answer's lifetime
    authenticator_.forget_unclaimed_answers(turn::Clock::now() + std::chrono::seconds(6));
    EXPECT_EQ(store_.released, std::vector<std::string>{"s1/alice"});
    // Forgotten: the next Allocate asks the store again.
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0), turn::SessionRefusal::pending);
    EXPECT_EQ(store_.pending.size(), 1u);
}

TEST_F(CredentialAuthenticatorTest, AnUnclaimedRefusalOrCheckHoldsNothingToGiveBack) {
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0), turn::SessionRefusal::pending);
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
    EXPECT_EQ(authenticator_.admit_allocation(alice_, 0), turn::SessionRefusal::pending);
    std::vector<turn::SessionRefusal> resumed;
    resume_ = [&](const turn::StoreQuestion&) {
        resumed.push_back(authenticator_.admit_allocation(alice_, 0));
        resumed.push_back(authenticator_.admit_allocation(alice_, 0));
    };
    answer_all(auth::SessionVerdict::allowed);
    // One slot was reserved: the first gets it, the second asks for a slot of its own.
    EXPECT_EQ(resumed, (std::vector{turn::SessionRefusal::none, turn::SessionRefusal::pending}));
    EXPECT_EQ(store_.pending.size(), 1u);
}

}  // namespace
}  // namespace hearth::relay
