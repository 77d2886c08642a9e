// What the state machine tells the audit trail beyond the allocation's own life: who asked
// for a refused Allocate, and the first packet relayed under each permission and channel.

#include <cstring>
#include <vector>

#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

class FirstUseTest : public TurnServerTest {
  protected:
    std::optional<PeerSend> channel_data(std::uint16_t number) {
        const std::array<std::byte, 8> datagram{static_cast<std::byte>(number >> 8),
                                                static_cast<std::byte>(number),
                                                std::byte{0},
                                                std::byte{3},
                                                std::byte{'a'},
                                                std::byte{'b'},
                                                std::byte{'c'},
                                                std::byte{0}};
        return server_.handle_channel_data(tuple(), datagram, now_.monotonic);
    }
    void send_indication(const TransportAddress& peer) {
        std::array<std::byte, 256> buffer{};
        stun::MessageBuilder builder(buffer, stun::Method::send, stun::MessageClass::indication,
                                     next_transaction());
        builder.add_xor_address(stun::attribute::xor_peer_address, peer);
        builder.add(stun::attribute::data, as_bytes("hello"));
        const auto bytes = builder.finish();
        last_outcome_ =
            server_.handle_stun(*stun::MessageView::parse(bytes), tuple(), now_, &link_);
    }
    bool from_peer(const TransportAddress& peer) {
        std::vector<std::byte> buffer(peer_data_headroom + 5 + peer_data_tailroom);
        std::memcpy(buffer.data() + peer_data_headroom, "hello", 5);
        return !server_
                    .wrap_peer_datagram(*server_.find(tuple()), peer, buffer, 5, now_.monotonic,
                                        false)
                    .empty();
    }
    using Uses = std::vector<std::pair<TransportAddress, Direction>>;
    using ChannelUses = std::vector<std::pair<std::uint16_t, Direction>>;
};

TEST_F(FirstUseTest, APermissionsFirstPacketEitherWayIsReportedOnce) {
    ASSERT_TRUE(allocate().is_success());
    ASSERT_TRUE(create_permission(peer_).is_success());
    EXPECT_TRUE(events_.permissions_first_used.empty());  // installed, not yet used

    send_indication(peer_);
    ASSERT_TRUE(last_outcome_.to_peer.has_value());
    send_indication(peer_);
    EXPECT_TRUE(from_peer(peer_));
    // Another port of the same address is under the same permission (RFC 8656 §9).
    send_indication(TransportAddress{peer_.ip, 6000});
    EXPECT_EQ(events_.permissions_first_used, (Uses{{peer_, Direction::client_to_peer}}));
}

TEST_F(FirstUseTest, APeerThatSpeaksFirstIsReportedInItsDirection) {
    ASSERT_TRUE(allocate().is_success());
    ASSERT_TRUE(create_permission(peer_).is_success());
    EXPECT_TRUE(from_peer(peer_));
    EXPECT_TRUE(from_peer(peer_));
    EXPECT_EQ(events_.permissions_first_used, (Uses{{peer_, Direction::peer_to_client}}));
}

TEST_F(FirstUseTest, DroppedPacketsUseNothing) {
    ASSERT_TRUE(allocate().is_success());
    EXPECT_FALSE(from_peer(peer_));  // no permission
    send_indication(peer_);
    EXPECT_FALSE(last_outcome_.to_peer.has_value());
    EXPECT_TRUE(events_.permissions_first_used.empty());
}

TEST_F(FirstUseTest, AChannelsFirstPacketReportsTheChannelAndItsPermissionOnce) {
    ASSERT_TRUE(allocate().is_success());
    ASSERT_TRUE(channel_bind(0x4001, peer_).is_success());
    ASSERT_TRUE(channel_data(0x4001).has_value());
    ASSERT_TRUE(channel_data(0x4001).has_value());
    EXPECT_TRUE(from_peer(peer_));
    EXPECT_EQ(events_.channels_first_used, (ChannelUses{{0x4001, Direction::client_to_peer}}));
    EXPECT_EQ(events_.permissions_first_used, (Uses{{peer_, Direction::client_to_peer}}));

    // A second channel to another port of the used address: its own first use only.
    const TransportAddress other{peer_.ip, 7000};
    ASSERT_TRUE(channel_bind(0x4002, other).is_success());
    EXPECT_TRUE(from_peer(other));
    EXPECT_EQ(events_.channels_first_used, (ChannelUses{{0x4001, Direction::client_to_peer},
                                                        {0x4002, Direction::peer_to_client}}));
    EXPECT_EQ(events_.permissions_first_used.size(), 1u);
}

TEST_F(FirstUseTest, APermissionThatLapsedAndCameBackIsANewOne) {
    ASSERT_TRUE(allocate().is_success());
    ASSERT_TRUE(create_permission(peer_).is_success());
    send_indication(peer_);
    advance(permission_lifetime);  // lapsed, not yet pruned
    ASSERT_TRUE(create_permission(peer_).is_success());
    send_indication(peer_);
    EXPECT_EQ(events_.permissions_first_used.size(), 2u);

    // Refreshed while live, it stays the same permission.
    advance(Seconds{10});
    ASSERT_TRUE(create_permission(peer_).is_success());
    send_indication(peer_);
    EXPECT_EQ(events_.permissions_first_used.size(), 2u);
}

TEST_F(FirstUseTest, AStreamRelaysFirstDataIsReportedOncePerPermission) {
    ASSERT_TRUE(allocate().is_success());
    auto& allocation = *server_.find(tuple());
    server_.note_stream_relayed(allocation, peer_, Direction::peer_to_client, now_.monotonic);
    EXPECT_TRUE(events_.permissions_first_used.empty());  // no permission: nothing to mark
    ASSERT_TRUE(create_permission(peer_).is_success());
    server_.note_stream_relayed(allocation, peer_, Direction::peer_to_client, now_.monotonic);
    server_.note_stream_relayed(allocation, peer_, Direction::client_to_peer, now_.monotonic);
    EXPECT_EQ(events_.permissions_first_used, (Uses{{peer_, Direction::peer_to_client}}));
}

// The allocation's own life, each event once, each deletion with the reason the audit
// trail writes (the refreshed, revoked, expired and deleted).
TEST_F(TurnServerTest, EveryEventOfAnAllocationsLifeIsReportedWithItsReason) {
    ASSERT_TRUE(allocate().is_success());
    EXPECT_EQ(events_.created, 1);
    ASSERT_TRUE(refresh(600).is_success());
    EXPECT_EQ(events_.refreshed, 1);
    ASSERT_TRUE(refresh(0).is_success());  // RFC 8656 §7.3: lifetime 0 deletes
    ASSERT_EQ(events_.deleted, std::vector<DeleteReason>{DeleteReason::client_request});

    ASSERT_TRUE(allocate().is_success());
    advance(Seconds{601});  // past the default lifetime (RFC 8656 §3.2: 600 s)
    server_.expire(now_);
    ASSERT_EQ(events_.deleted.back(), DeleteReason::expired);

    ASSERT_TRUE(allocate().is_success());
    EXPECT_EQ(server_.delete_where_session("s1", "", DeleteReason::revoked), 1u);
    ASSERT_EQ(events_.deleted.back(), DeleteReason::revoked);

    transport_ = ClientTransport::tcp;
    ASSERT_TRUE(allocate().is_success());
    server_.client_gone(tuple());
    ASSERT_EQ(events_.deleted.back(), DeleteReason::client_gone);

    ASSERT_TRUE(allocate().is_success());
    server_.delete_all(DeleteReason::shutdown);
    EXPECT_EQ(events_.deleted.back(), DeleteReason::shutdown);
    EXPECT_EQ(events_.created, 5);
    EXPECT_EQ(events_.deleted.size(), 5u);
    EXPECT_EQ(events_.refreshed, 1);  // a deleting Refresh is a deletion, not a refresh
}

TEST_F(TurnServerTest, ARefusedAllocateNamesWhoAskedOnlyWhenTheCredentialWasValid) {
    authenticator_.next_admission = SessionRefusal::cap_reached;
    EXPECT_EQ(allocate().error_code(), 486);
    authenticator_.next_admission = SessionRefusal::none;
    EXPECT_EQ(request(stun::Method::allocate, udp_transport, true, "fresh-nonce", "s1:alice",
                      std::nullopt, "wrong password")
                  .error_code(),
              401);
    ASSERT_EQ(events_.refusals.size(), 2u);
    EXPECT_EQ(events_.refusals[0].first, 486);
    EXPECT_EQ(events_.refused_owners, (std::vector<std::string>{"s1/alice", ""}));
}

}  // namespace
}  // namespace hearth::turn::testing
