// Rejoin past the session's cap (issue 16): the session store's allocation_cap follows the
// per-user cap's rule. With the embedded store behind the real CredentialAuthenticator: a
// user whose allocation of the session has been idle for rejoin_idle is admitted past the
// cap on that allocation's slot, which is deleted as replaced without giving the slot back,
// so the store's count stays the number of live allocations.
//
// Here, not in tests/turn: the state machine's own tests build without auth/ and the
// socket layer; these need both.

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <vector>

#include "auth/embedded_session_store.h"
#include "relay/net/credential_authenticator.h"
#include "tests/turn/turn_test_fixture.h"

namespace hearth::relay {
namespace {

using turn::testing::Answer;

// The fake's credentials ("s1:alice" has the password "pw"), the real session side.
class StoreBackedAuthenticator final : public turn::Authenticator {
  public:
    explicit StoreBackedAuthenticator(CredentialAuthenticator& sessions) : sessions_(sessions) {}
    std::string_view realm() const override { return credentials_.realm(); }
    std::string issue_nonce(const IpAddress& client, std::int64_t now_unix,
                            stun::SecurityFeatures features) override {
        return credentials_.issue_nonce(client, now_unix, features);
    }
    std::expected<turn::Credentials, turn::AuthFailure> authenticate(
        const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix,
        std::string_view allocation_username) override {
        return credentials_.authenticate(request, client, now_unix, allocation_username);
    }
    turn::SessionRefusal admit_allocation(const turn::Owner& owner, std::int64_t now_unix,
                                          turn::PastSessionCap past_the_cap) override {
        return sessions_.admit_allocation(owner, now_unix, past_the_cap);
    }
    void release_allocation(const turn::Owner& owner) override {
        sessions_.release_allocation(owner);
    }
    turn::SessionRefusal check_session(const turn::Owner& owner, std::int64_t now_unix) override {
        return sessions_.check_session(owner, now_unix);
    }

  private:
    turn::testing::FakeAuthenticator credentials_;
    CredentialAuthenticator& sessions_;
};

// Built before the fixture's servers, which keep a reference to `authenticator`.
struct EmbeddedSessions {
    auth::EmbeddedSessionStore store;
    CredentialAuthenticator sessions{"hearth",
                                     {},
                                     {},
                                     std::chrono::seconds(600),
                                     store,
                                     [](std::function<void()> task) { task(); },
                                     [](const turn::StoreQuestion&) {}};
    StoreBackedAuthenticator authenticator{sessions};
};

class SessionCapRejoinTest : protected EmbeddedSessions, public turn::testing::TurnServerTest {
  protected:
    SessionCapRejoinTest() : TurnServerTest(EmbeddedSessions::authenticator) {
        // The session's cap binds first: 2, against 8 per user.
        store.put({"s1", auth::SessionState::active, {"alice", "bob"}, 0, 0, 2});
        limits_.quota.set_limits(100, 8);
    }

    Answer allocate_as(std::string_view username, std::uint16_t port) {
        client_.port = port;
        return request(stun::Method::allocate, udp_transport, true, "fresh-nonce", username);
    }
    // A Refresh with LIFETIME 0 (RFC 8656 §7.3): the client deletes its allocation.
    Answer delete_as(std::string_view username, std::uint16_t port) {
        client_.port = port;
        return request(
            stun::Method::refresh,
            [](stun::MessageBuilder& builder, const stun::TransactionId&) {
                builder.add_u32(stun::attribute::lifetime, 0);
            },
            true, "fresh-nonce", username);
    }
    turn::FiveTuple tuple_of(std::uint16_t port) const {
        return {{client_.ip, port}, server_address_, transport_};
    }
    // A packet from the peer relayed to the client of `port`'s allocation (on the server
    // that holds it).
    void relay_on(std::string_view username, std::uint16_t port) {
        client_.port = port;
        ASSERT_TRUE(request(
                        stun::Method::create_permission,
                        [&](stun::MessageBuilder& builder, const stun::TransactionId&) {
                            builder.add_xor_address(stun::attribute::xor_peer_address, peer_);
                        },
                        true, "fresh-nonce", username)
                        .is_success());
        std::vector<std::byte> buffer(turn::peer_data_headroom + 5 + turn::peer_data_tailroom);
        std::memcpy(buffer.data() + turn::peer_data_headroom, "hello", 5);
        auto* allocation = receiving_server_->find(tuple());
        ASSERT_NE(allocation, nullptr);
        ASSERT_FALSE(receiving_server_
                         ->wrap_peer_datagram(*allocation, peer_, buffer, 5, now_.monotonic, false)
                         .empty());
    }
    void set_rejoin_idle(turn::TurnServer& server, turn::Seconds idle) {
        turn::ServerSettings settings;
        settings.rejoin_idle = idle;
        server.apply(settings, turn::PeerPolicy{});
    }
    // Alice's allocation (port 41000) and Bob's (41001) fill the session's cap; Alice's
    // relays 15 s later, when Bob's has been idle for the default window.
    void fill_the_session_cap() {
        ASSERT_TRUE(allocate_as("s1:alice", 41000).is_success());
        ASSERT_TRUE(allocate_as("s1:bob", 41001).is_success());
        ASSERT_EQ(store.allocations_of("s1"), 2u);
        advance(turn::Seconds{15});
        relay_on("s1:alice", 41000);
    }
};

TEST_F(SessionCapRejoinTest, TheUsersIdleAllocationGivesItsSlotToTheRejoin) {
    fill_the_session_cap();

    EXPECT_TRUE(allocate_as("s1:bob", 41002).is_success());
    EXPECT_EQ(server_.find(tuple_of(41001)), nullptr);
    EXPECT_NE(server_.find(tuple_of(41000)), nullptr);
    EXPECT_NE(server_.find(tuple_of(41002)), nullptr);
    EXPECT_EQ(events_.deleted, std::vector<turn::DeleteReason>{turn::DeleteReason::replaced});
    EXPECT_EQ(server_.counters().allocations_replaced, 1u);
    // The slot went from the old allocation to the new: the count is the live allocations.
    EXPECT_EQ(store.allocations_of("s1"), 2u);
    EXPECT_EQ(limits_.quota.total(), 2u);

    // Alice's allocation relays: hers is refused as before.
    EXPECT_EQ(allocate_as("s1:alice", 41003).error_code(), 486);
    // The slots still add up as the allocations go.
    ASSERT_TRUE(delete_as("s1:bob", 41002).is_success());
    EXPECT_EQ(store.allocations_of("s1"), 1u);
    ASSERT_TRUE(delete_as("s1:alice", 41000).is_success());
    EXPECT_EQ(store.allocations_of("s1"), 0u);
    EXPECT_EQ(limits_.quota.total(), 0u);
}

TEST_F(SessionCapRejoinTest, AnAllocationThatRelayedRecentlyIsNotReplaced) {
    ASSERT_TRUE(allocate_as("s1:alice", 41000).is_success());
    ASSERT_TRUE(allocate_as("s1:bob", 41001).is_success());
    advance(turn::Seconds{15});
    relay_on("s1:bob", 41001);
    advance(turn::Seconds{14});  // relayed 14 s ago: within the window

    EXPECT_EQ(allocate_as("s1:bob", 41002).error_code(), 486);
    EXPECT_TRUE(events_.deleted.empty());
    EXPECT_EQ(server_.allocation_count(), 2u);
    EXPECT_EQ(store.allocations_of("s1"), 2u);
    EXPECT_EQ(limits_.quota.total(), 2u);
}

TEST_F(SessionCapRejoinTest, RejoinOffKeepsTheSessionCapsRefusal) {
    set_rejoin_idle(server_, turn::Seconds{0});
    fill_the_session_cap();
    advance(turn::Seconds{3600});

    EXPECT_EQ(allocate_as("s1:bob", 41002).error_code(), 486);
    EXPECT_TRUE(events_.deleted.empty());
    EXPECT_EQ(store.allocations_of("s1"), 2u);
}

// Only the asking user's idle allocation counts: Alice's idle one is not Bob's to take.
TEST_F(SessionCapRejoinTest, AnotherUsersIdleAllocationIsNotReplaced) {
    ASSERT_TRUE(allocate_as("s1:alice", 41000).is_success());
    ASSERT_TRUE(allocate_as("s1:bob", 41001).is_success());
    advance(turn::Seconds{15});
    relay_on("s1:bob", 41001);

    EXPECT_EQ(allocate_as("s1:bob", 41002).error_code(), 486);
    EXPECT_EQ(server_.allocation_count(), 2u);
    EXPECT_EQ(store.allocations_of("s1"), 2u);
}

// Bob's idle allocation is another worker's: it is deleted there, by a posted task, and
// neither that delete nor an earlier end of its own (here: the client's Refresh 0 arrives
// first) gives back the slot that went to the new allocation.
class SessionCapRejoinAcrossWorkersTest : public SessionCapRejoinTest {
  protected:
    SessionCapRejoinAcrossWorkersTest() {
        server_.set_replace_elsewhere([this](turn::AllocationId id) { posted_.push_back(id); });
    }
    void bobs_idle_allocation_on_the_other_worker() {
        ASSERT_TRUE(allocate_as("s1:alice", 41000).is_success());
        receiving_server_ = &other_;
        ASSERT_TRUE(allocate_as("s1:bob", 41001).is_success());
        receiving_server_ = &server_;
        advance(turn::Seconds{15});
        relay_on("s1:alice", 41000);
        ASSERT_TRUE(allocate_as("s1:bob", 41002).is_success());
        ASSERT_EQ(posted_.size(), 1u);
        EXPECT_NE(other_.find(tuple_of(41001)), nullptr);  // until its worker runs the task
    }
    turn::TurnServer other_{turn::ServerSettings{},
                            turn::PeerPolicy{},
                            EmbeddedSessions::authenticator,
                            relay_sockets_,
                            events_,
                            limits_,
                            turn::AllocationId{1} << 48};
    std::vector<turn::AllocationId> posted_;
};

TEST_F(SessionCapRejoinAcrossWorkersTest, TheOtherWorkerDeletesItAsReplaced) {
    bobs_idle_allocation_on_the_other_worker();
    EXPECT_TRUE(other_.delete_replaced(posted_[0]));
    EXPECT_EQ(other_.allocation_count(), 0u);
    EXPECT_EQ(other_.counters().allocations_replaced, 1u);
    EXPECT_EQ(server_.allocation_count(), 2u);
    EXPECT_EQ(store.allocations_of("s1"), 2u);
    EXPECT_EQ(limits_.quota.total(), 2u);
}

TEST_F(SessionCapRejoinAcrossWorkersTest, EndingFirstForAnotherReasonKeepsTheCountRight) {
    bobs_idle_allocation_on_the_other_worker();
    receiving_server_ = &other_;
    // The old tab's last word, before the posted task runs.
    ASSERT_TRUE(delete_as("s1:bob", 41001).is_success());
    EXPECT_EQ(store.allocations_of("s1"), 2u);
    EXPECT_FALSE(other_.delete_replaced(posted_[0]));
    EXPECT_EQ(store.allocations_of("s1"), 2u);
    EXPECT_EQ(limits_.quota.total(), 2u);
}

}  // namespace
}  // namespace hearth::relay
