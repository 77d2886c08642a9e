// What the state machine hands the kernel fast path and takes back (relay/turn/fast_path.h):
// a channel only after its packet passed every check here, until the first of its
// permission, binding and allocation runs out; taken back when the allocation goes, its
// session is revoked or the configuration is reloaded; and what the fast path carried is
// added to the same counters.

#include <cstring>
#include <map>
#include <vector>

#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

struct Offer {
    AllocationId allocation;
    std::uint16_t channel;
    TimePoint until;
};

class RecordingFastPath final : public FastPath {
  public:
    void offer(Allocation& allocation, const ChannelBinding& channel, const RelayEndpoint&,
               TimePoint until) override {
        offers.push_back({allocation.id(), channel.number, until});
        carrying[allocation.id()] = &allocation;
    }
    FastPathCounts withdraw(Allocation& allocation) override {
        withdrawn.push_back(allocation.id());
        carrying.erase(allocation.id());
        return std::exchange(pending[allocation.id()], {});
    }
    void collect(const std::function<void(Allocation&, const FastPathCounts&)>& add) override {
        for (auto& [id, allocation] : carrying) {
            add(*allocation, std::exchange(pending[id], {}));
        }
    }

    std::vector<Offer> offers;
    std::vector<AllocationId> withdrawn;
    std::map<AllocationId, Allocation*> carrying;
    std::map<AllocationId, FastPathCounts> pending;  // what it "carried" since the last look
};

class FastPathOffersTest : public TurnServerTest {
  protected:
    FastPathOffersTest() { server_.set_fast_path(&fast_path_); }
    // The server (the base's) outlives fast_path_: it must not withdraw into it at its end.
    ~FastPathOffersTest() override { server_.set_fast_path(nullptr); }

    void allocate_and_bind() {
        ASSERT_TRUE(allocate().is_success());
        ASSERT_TRUE(channel_bind(channel_, peer_).is_success());
    }
    bool channel_data() {
        const std::array<std::byte, 7> datagram{static_cast<std::byte>(channel_ >> 8),
                                                static_cast<std::byte>(channel_),
                                                std::byte{0},
                                                std::byte{3},
                                                std::byte{'a'},
                                                std::byte{'b'},
                                                std::byte{'c'}};
        return server_.handle_channel_data(tuple(), datagram, now_.monotonic).has_value();
    }
    bool from_peer() {
        std::vector<std::byte> buffer(peer_data_headroom + 5 + peer_data_tailroom);
        std::memcpy(buffer.data() + peer_data_headroom, "hello", 5);
        return !server_
                    .wrap_peer_datagram(*server_.find(tuple()), peer_, buffer, 5, now_.monotonic,
                                        false)
                    .empty();
    }
    AllocationId allocation_id() { return server_.find(tuple())->id(); }

    const std::uint16_t channel_ = 0x4001;
    RecordingFastPath fast_path_;
};

TEST_F(FastPathOffersTest, AChannelIsOfferedOnlyOnceAPacketOnItPassedInUserspace) {
    allocate_and_bind();
    EXPECT_TRUE(fast_path_.offers.empty()) << "bound, but nothing relayed yet";
    ASSERT_TRUE(channel_data());
    ASSERT_EQ(fast_path_.offers.size(), 1u);
    const Offer& offer = fast_path_.offers[0];
    EXPECT_EQ(offer.allocation, allocation_id());
    EXPECT_EQ(offer.channel, channel_);
    // The permission (300 s, RFC 8656 §9) ends before the binding (600 s) and the allocation.
    EXPECT_EQ(offer.until, now_.monotonic + permission_lifetime);
    ASSERT_TRUE(channel_data());
    EXPECT_EQ(fast_path_.offers.size(), 1u) << "offered already, until the same moment";
}

TEST_F(FastPathOffersTest, APeersPacketOnABoundChannelOffersItToo) {
    allocate_and_bind();
    ASSERT_TRUE(from_peer());
    ASSERT_EQ(fast_path_.offers.size(), 1u);
    EXPECT_EQ(fast_path_.offers[0].channel, channel_);
}

TEST_F(FastPathOffersTest, APeerWithoutAChannelIsNeverOffered) {
    ASSERT_TRUE(allocate().is_success());
    ASSERT_TRUE(create_permission(peer_).is_success());
    ASSERT_TRUE(from_peer());  // a Data indication: userspace builds it
    EXPECT_TRUE(fast_path_.offers.empty());
}

TEST_F(FastPathOffersTest, ARefreshedPermissionIsOfferedAgainUntilItsNewEnd) {
    allocate_and_bind();
    ASSERT_TRUE(channel_data());
    advance(Seconds{100});
    ASSERT_TRUE(create_permission(peer_).is_success());
    ASSERT_TRUE(channel_data());
    ASSERT_EQ(fast_path_.offers.size(), 2u);
    EXPECT_EQ(fast_path_.offers[1].until, now_.monotonic + permission_lifetime);
}

TEST_F(FastPathOffersTest, StreamClientsAreNeverOffered) {
    transport_ = ClientTransport::tcp;
    allocate_and_bind();
    ASSERT_TRUE(channel_data());
    EXPECT_TRUE(fast_path_.offers.empty());
}

TEST_F(FastPathOffersTest, DeletingTheAllocationWithdrawsItFirst) {
    allocate_and_bind();
    ASSERT_TRUE(channel_data());
    const AllocationId id = allocation_id();
    ASSERT_TRUE(refresh(0).is_success());
    EXPECT_EQ(fast_path_.withdrawn, std::vector<AllocationId>{id});
}

TEST_F(FastPathOffersTest, RevokingTheSessionWithdrawsItsAllocations) {
    allocate_and_bind();
    ASSERT_TRUE(channel_data());
    const AllocationId id = allocation_id();
    EXPECT_EQ(server_.delete_where_session("s1", "", DeleteReason::revoked), 1u);
    EXPECT_EQ(fast_path_.withdrawn, std::vector<AllocationId>{id});
    EXPECT_TRUE(fast_path_.carrying.empty());
}

TEST_F(FastPathOffersTest, AReloadWithdrawsEverythingAndTheNextPacketOffersAgain) {
    allocate_and_bind();
    ASSERT_TRUE(channel_data());
    server_.apply(ServerSettings{}, PeerPolicy{});
    EXPECT_EQ(fast_path_.withdrawn, std::vector<AllocationId>{allocation_id()});
    ASSERT_TRUE(channel_data());
    EXPECT_EQ(fast_path_.offers.size(), 2u) << "vetted again under the new policy, offered";
}

TEST_F(FastPathOffersTest, WhatTheFastPathCarriedJoinsTheAllocationsCounters) {
    allocate_and_bind();
    ASSERT_TRUE(channel_data());  // 3 bytes in userspace
    fast_path_.pending[allocation_id()] = {.to_peer_packets = 10,
                                           .to_peer_bytes = 1000,
                                           .to_client_packets = 7,
                                           .to_client_bytes = 700};
    server_.collect_fast_path();
    const Allocation& allocation = *server_.find(tuple());
    EXPECT_EQ(allocation.client_to_peer.packets, 11u);
    EXPECT_EQ(allocation.client_to_peer.bytes, 1003u);
    EXPECT_EQ(allocation.client_to_peer.fast_path_packets, 10u);
    EXPECT_EQ(allocation.peer_to_client.packets, 7u);
    EXPECT_EQ(allocation.peer_to_client.bytes, 700u);
    EXPECT_EQ(allocation.peer_to_client.fast_path_packets, 7u);
}

TEST_F(FastPathOffersTest, TheLastCarriedPacketsAreCountedWhenTheAllocationGoes) {
    allocate_and_bind();
    ASSERT_TRUE(channel_data());
    fast_path_.pending[allocation_id()] = {.to_peer_packets = 5, .to_peer_bytes = 500};
    ASSERT_TRUE(refresh(0).is_success());
    const auto& retired = server_.counters().retired_client_to_peer[0];
    EXPECT_EQ(retired.packets, 6u);
    EXPECT_EQ(retired.bytes, 503u);
    EXPECT_EQ(retired.fast_path_packets, 5u);
}

}  // namespace
}  // namespace hearth::turn::testing
