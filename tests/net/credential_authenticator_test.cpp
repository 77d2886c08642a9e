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
    int answers_handed_in_ = 0;
    // Answers are posted to the worker; here they run when the test says.
    CredentialAuthenticator authenticator_{
        "hearth",
        {},
        {},
        std::chrono::seconds(600),
        store_,
        [this](std::function<void()> task) { posted_.push_back(std::move(task)); },
        [this] { ++answers_handed_in_; }};
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
    EXPECT_EQ(answers_handed_in_, 1);
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

}  // namespace
}  // namespace hearth::relay
