// Rejoin (issue 16): past the per-user cap, the user's oldest allocation idle for
// ServerSettings::rejoin_idle gives its slot to the new one; only a user whose
// allocations are all active gets 486.

#include <cstring>
#include <vector>

#include "turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

class RejoinTest : public TurnServerTest {
  protected:
    // The fixture's cap is 3 per user: three five-tuples of "s1:alice", a second apart.
    void fill_the_cap() {
        for (std::uint16_t port = 0; port < 3; ++port) {
            client_.port = static_cast<std::uint16_t>(41000 + port);
            ASSERT_TRUE(allocate().is_success());
            advance(Seconds{1});
        }
    }
    FiveTuple tuple_of(std::uint16_t port) const {
        return {{client_.ip, port}, server_address_, transport_};
    }
    // A packet from the peer relayed to the client of `port`'s allocation.
    void relay_on(std::uint16_t port) {
        client_.port = port;
        ASSERT_TRUE(create_permission(peer_).is_success());
        std::vector<std::byte> buffer(peer_data_headroom + 5 + peer_data_tailroom);
        std::memcpy(buffer.data() + peer_data_headroom, "hello", 5);
        ASSERT_FALSE(
            server_
                .wrap_peer_datagram(*server_.find(tuple()), peer_, buffer, 5, now_.monotonic, false)
                .empty());
    }
    Answer allocate_from(std::uint16_t port) {
        client_.port = port;
        return allocate();
    }
    void set_rejoin_idle(Seconds idle) {
        ServerSettings settings;
        settings.rejoin_idle = idle;
        server_.apply(settings, PeerPolicy{});
    }
};

TEST_F(RejoinTest, PastTheCapTheOldestIdleAllocationIsReplaced) {
    fill_the_cap();
    advance(Seconds{15});  // the default window: all three idle now

    EXPECT_TRUE(allocate_from(41003).is_success());
    EXPECT_EQ(server_.find(tuple_of(41000)), nullptr);  // the oldest
    EXPECT_NE(server_.find(tuple_of(41001)), nullptr);
    EXPECT_NE(server_.find(tuple_of(41002)), nullptr);
    EXPECT_NE(server_.find(tuple_of(41003)), nullptr);
    EXPECT_EQ(events_.deleted, std::vector<DeleteReason>{DeleteReason::replaced});
    EXPECT_EQ(server_.counters().allocations_replaced, 1u);
    EXPECT_EQ(server_.counters().allocations_deleted, 1u);
    // Its session-store slot is given back; its slot of the cap is the new one's.
    EXPECT_EQ(authenticator_.released, 1);
    EXPECT_EQ(limits_.quota.total(), 3u);

    // Deleting the new one gives back one slot, not two.
    client_.port = 41003;
    ASSERT_TRUE(refresh(0).is_success());
    EXPECT_EQ(limits_.quota.total(), 2u);
}

TEST_F(RejoinTest, AnActiveAllocationIsNeverReplaced) {
    fill_the_cap();
    advance(Seconds{15});
    relay_on(41000);  // the oldest relays: the next oldest, idle, goes instead
    EXPECT_TRUE(allocate_from(41003).is_success());
    EXPECT_NE(server_.find(tuple_of(41000)), nullptr);
    EXPECT_EQ(server_.find(tuple_of(41001)), nullptr);
    EXPECT_EQ(server_.counters().allocations_replaced, 1u);
}

TEST_F(RejoinTest, EveryAllocationActiveGives486) {
    fill_the_cap();
    advance(Seconds{15});
    for (std::uint16_t port = 41000; port < 41003; ++port) {
        relay_on(port);
    }
    advance(Seconds{14});  // relayed 14 s ago: still within the window
    EXPECT_EQ(allocate_from(41003).error_code(), 486);
    EXPECT_TRUE(events_.deleted.empty());
    EXPECT_EQ(server_.counters().allocations_replaced, 0u);
    EXPECT_EQ(server_.allocation_count(), 3u);
    EXPECT_EQ(limits_.quota.total(), 3u);
}

TEST_F(RejoinTest, ANewAllocationThatHasNotRelayedYetIsNotIdle) {
    fill_the_cap();  // the youngest is a second old, the oldest three
    EXPECT_EQ(allocate_from(41003).error_code(), 486);
    EXPECT_EQ(server_.allocation_count(), 3u);
}

TEST_F(RejoinTest, TheWindowIsConfigurable) {
    set_rejoin_idle(Seconds{60});
    fill_the_cap();
    advance(Seconds{20});
    EXPECT_EQ(allocate_from(41003).error_code(), 486);
    advance(Seconds{40});  // the oldest has now been idle 62 s
    EXPECT_TRUE(allocate_from(41003).is_success());
    EXPECT_EQ(server_.find(tuple_of(41000)), nullptr);

    set_rejoin_idle(Seconds{1});
    advance(Seconds{1});
    EXPECT_TRUE(allocate_from(41004).is_success());
    EXPECT_EQ(server_.find(tuple_of(41001)), nullptr);
    EXPECT_EQ(server_.counters().allocations_replaced, 2u);
}

TEST_F(RejoinTest, ZeroNeverReplaces) {
    set_rejoin_idle(Seconds{0});
    fill_the_cap();
    advance(Seconds{3600});
    EXPECT_EQ(allocate_from(41003).error_code(), 486);
    EXPECT_TRUE(events_.deleted.empty());
}

// The session's cap (the store's, here the fake's answer) follows the same rule: a user
// with an idle allocation asks the store for a slot or, past the cap, a replacement; the
// replaced allocation's store slot is the new one's, so it is not given back.
// tests/net/session_cap_rejoin_test.cpp runs the same with the embedded store.
TEST_F(RejoinTest, PastTheSessionsCapTheIdleAllocationsStoreSlotIsHandedOver) {
    ASSERT_TRUE(allocate_from(41000).is_success());
    EXPECT_EQ(authenticator_.admissions_asked, std::vector{PastSessionCap::refuse});
    advance(Seconds{15});
    authenticator_.next_admission = SessionRefusal::replaces_idle;

    EXPECT_TRUE(allocate_from(41001).is_success());
    EXPECT_EQ(authenticator_.admissions_asked,
              (std::vector{PastSessionCap::refuse, PastSessionCap::replace_idle}));
    EXPECT_EQ(server_.find(tuple_of(41000)), nullptr);
    EXPECT_EQ(events_.deleted, std::vector<DeleteReason>{DeleteReason::replaced});
    EXPECT_EQ(server_.counters().allocations_replaced, 1u);
    EXPECT_EQ(authenticator_.released, 0);
    EXPECT_EQ(limits_.quota.total(), 1u);

    // The new allocation holds the slot and gives it back when it goes.
    authenticator_.next_admission = SessionRefusal::none;
    ASSERT_TRUE(refresh(0).is_success());
    EXPECT_EQ(authenticator_.released, 1);
    EXPECT_EQ(limits_.quota.total(), 0u);
}

TEST_F(RejoinTest, WithoutAnIdleAllocationTheStoreIsNotAskedToReplace) {
    ASSERT_TRUE(allocate_from(41000).is_success());
    advance(Seconds{14});
    authenticator_.next_admission = SessionRefusal::cap_reached;
    EXPECT_EQ(allocate_from(41001).error_code(), 486);
    EXPECT_EQ(authenticator_.admissions_asked,
              std::vector<PastSessionCap>(2, PastSessionCap::refuse));
    set_rejoin_idle(Seconds{0});
    advance(Seconds{3600});
    EXPECT_EQ(allocate_from(41001).error_code(), 486);
    EXPECT_EQ(authenticator_.admissions_asked.back(), PastSessionCap::refuse);
    EXPECT_TRUE(events_.deleted.empty());
}

// Workers share the cap: the idle allocation may be another worker's. It is named to the
// I/O layer, which deletes it on its owner's thread; the new one is admitted at once.
TEST_F(RejoinTest, AnotherWorkersIdleAllocationIsHandedToItsWorker) {
    std::vector<AllocationId> elsewhere;
    server_.set_replace_elsewhere([&](AllocationId id) { elsewhere.push_back(id); });
    const AllocationId foreign = (AllocationId{1} << 48) + 1;
    const auto activity = std::make_shared<RelayActivity>(now_.monotonic);
    ASSERT_EQ(
        limits_.quota.acquire("s1/alice", {foreign, activity}, now_.monotonic, Seconds{15}).result,
        AllocationQuota::Result::granted);
    advance(Seconds{1});
    client_.port = 41000;
    ASSERT_TRUE(allocate().is_success());
    client_.port = 41001;
    ASSERT_TRUE(allocate().is_success());
    advance(Seconds{15});

    EXPECT_TRUE(allocate_from(41002).is_success());
    EXPECT_EQ(elsewhere, std::vector<AllocationId>{foreign});
    EXPECT_EQ(server_.allocation_count(), 3u);
    EXPECT_TRUE(events_.deleted.empty());  // nothing of this worker's was deleted
    EXPECT_FALSE(server_.delete_replaced(foreign));
    // The other worker's later delete of it gives back no slot: the new one holds it.
    limits_.quota.release("s1/alice", foreign);
    EXPECT_EQ(limits_.quota.total(), 3u);
}

}  // namespace
}  // namespace hearth::turn::testing
