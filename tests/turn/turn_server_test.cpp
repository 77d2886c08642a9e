// The TURN state machine, request by request (RFC 8656 §7-§12).

#include <cstring>
#include <string>
#include <utility>

#include "relay/stun/channel_data.h"
#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

namespace attribute = stun::attribute;

std::optional<TransportAddress> xor_address(const Answer& answer, std::uint16_t type) {
    const auto message = answer.message();
    const auto value = message.find(type);
    if (!value) {
        return std::nullopt;
    }
    return stun::decode_xor_address(*value, message.transaction_id());
}

std::uint32_t lifetime_of(const Answer& answer) {
    return *stun::decode_u32(*answer.message().find(attribute::lifetime));
}

TEST_F(TurnServerTest, BindingAnswersWithTheClientsAddress) {
    const auto answer = request(
        stun::Method::binding, [](auto&, const auto&) {}, false);
    ASSERT_TRUE(answer.is_success());
    EXPECT_EQ(xor_address(answer, attribute::xor_mapped_address), client_);
    EXPECT_FALSE(answer.message().has(attribute::software));  // unauthenticated: kept small
    EXPECT_TRUE(stun::verify_fingerprint(answer.message()));
}

TEST_F(TurnServerTest, AllocateWithoutCredentialsGets401WithRealmAndNonce) {
    const auto answer = request(stun::Method::allocate, udp_transport, false);
    EXPECT_EQ(answer.error_code(), 401);
    const auto message = answer.message();
    EXPECT_EQ(stun::decode_realm(*message.find(attribute::realm)), "hearth");
    EXPECT_EQ(stun::decode_nonce(*message.find(attribute::nonce)), "fresh-nonce");
    EXPECT_FALSE(message.has(attribute::message_integrity));
    EXPECT_EQ(server_.allocation_count(), 0u);
}

TEST_F(TurnServerTest, StaleNonceGets438WithAFreshNonce) {
    const auto answer = request(stun::Method::allocate, udp_transport, true, "stale");
    EXPECT_EQ(answer.error_code(), 438);
    EXPECT_EQ(stun::decode_nonce(*answer.message().find(attribute::nonce)), "fresh-nonce");
}

TEST_F(TurnServerTest, AllocateSucceedsWithRelayedMappedAddressAndLifetime) {
    const auto answer = allocate();
    ASSERT_TRUE(answer.is_success()) << answer.error_code();
    EXPECT_EQ(xor_address(answer, attribute::xor_relayed_address)->port, relay_port_base);
    EXPECT_EQ(xor_address(answer, attribute::xor_mapped_address), client_);
    EXPECT_EQ(lifetime_of(answer), 600u);
    EXPECT_TRUE(stun::verify_message_integrity(
        answer.message(), stun::long_term_key_md5("s1:alice", "hearth", "pw")));
    EXPECT_EQ(server_.allocation_count(), 1u);
    EXPECT_EQ(events_.created, 1);
}

TEST_F(TurnServerTest, RetransmittedAllocateGetsTheSameSuccess) {
    const auto first = allocate();
    const auto again = request(stun::Method::allocate, udp_transport, true, "fresh-nonce",
                               "s1:alice", last_transaction_);
    ASSERT_TRUE(again.is_success());
    EXPECT_EQ(xor_address(again, attribute::xor_relayed_address),
              xor_address(first, attribute::xor_relayed_address));
    EXPECT_EQ(relay_sockets_.open_count, 1);
}

TEST_F(TurnServerTest, SecondAllocateOnTheSameFiveTupleGets437) {
    allocate();
    EXPECT_EQ(allocate().error_code(), 437);
}

TEST_F(TurnServerTest, AllocateRequestErrors) {
    struct Case {
        const char* name;
        std::function<void(stun::MessageBuilder&)> fill;
        int expected;
    };
    const std::array<std::byte, 4> tcp{std::byte{6}, {}, {}, {}};
    const std::array<std::byte, 4> sctp{std::byte{132}, {}, {}, {}};
    const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
    const std::array<std::byte, 4> ipv6_family{std::byte{2}, {}, {}, {}};
    const std::array<std::byte, 4> bad_family{std::byte{9}, {}, {}, {}};
    const std::array<std::byte, 4> ipv4_family{std::byte{1}, {}, {}, {}};
    const std::array<std::byte, 8> token{};
    const std::vector<Case> cases = {
        {"no REQUESTED-TRANSPORT", [](auto&) {}, 400},
        {"TCP relay over a UDP client (RFC 6062 §5.1)",
         [&](auto& b) { b.add(attribute::requested_transport, tcp); }, 400},
        {"SCTP relay", [&](auto& b) { b.add(attribute::requested_transport, sctp); }, 442},
        {"IPv6 not configured",
         [&](auto& b) {
             b.add(attribute::requested_transport, udp);
             b.add(attribute::requested_address_family, ipv6_family);
         },
         440},
        {"unknown family",
         [&](auto& b) {
             b.add(attribute::requested_transport, udp);
             b.add(attribute::requested_address_family, bad_family);
         },
         440},
        {"additional family must be IPv6",
         [&](auto& b) {
             b.add(attribute::requested_transport, udp);
             b.add(attribute::additional_address_family, ipv4_family);
         },
         400},
        {"both family attributes",
         [&](auto& b) {
             b.add(attribute::requested_transport, udp);
             b.add(attribute::requested_address_family, ipv4_family);
             b.add(attribute::additional_address_family, ipv6_family);
         },
         400},
        {"reservation token we never gave",
         [&](auto& b) {
             b.add(attribute::requested_transport, udp);
             b.add(attribute::reservation_token, token);
         },
         508},
        {"unknown comprehension-required attribute",
         [&](auto& b) {
             b.add(attribute::requested_transport, udp);
             b.add(0x7F01, udp);
         },
         420},
    };
    for (const auto& test : cases) {
        const auto answer = request(stun::Method::allocate,
                                    [&](auto& builder, const auto&) { test.fill(builder); });
        EXPECT_EQ(answer.error_code(), test.expected) << test.name;
        EXPECT_TRUE(answer.message().has(attribute::message_integrity)) << test.name;
    }
    EXPECT_EQ(server_.allocation_count(), 0u);
    EXPECT_EQ(relay_sockets_.open_count, 0);
}

TEST_F(TurnServerTest, UnknownAttributeIsListedIn420) {
    const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
    const auto answer = request(stun::Method::allocate, [&](auto& builder, const auto&) {
        builder.add(attribute::requested_transport, udp);
        builder.add(0x7F01, udp);
    });
    const auto unknown = answer.message().find(attribute::unknown_attributes);
    ASSERT_TRUE(unknown.has_value());
    ASSERT_EQ(unknown->size(), 2u);
    EXPECT_EQ(static_cast<int>((*unknown)[0]), 0x7F);
    EXPECT_EQ(static_cast<int>((*unknown)[1]), 0x01);
}

TEST_F(TurnServerTest, DualAllocationWithoutIpv6ReportsAddressErrorCode) {
    const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
    const std::array<std::byte, 4> ipv6_family{std::byte{2}, {}, {}, {}};
    const auto answer = request(stun::Method::allocate, [&](auto& builder, const auto&) {
        builder.add(attribute::requested_transport, udp);
        builder.add(attribute::additional_address_family, ipv6_family);
    });
    ASSERT_TRUE(answer.is_success());
    const auto error = answer.message().find(attribute::address_error_code);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(static_cast<int>((*error)[0]), 2);  // the IPv6 family
    EXPECT_EQ(static_cast<int>((*error)[2]) * 100 + static_cast<int>((*error)[3]), 440);
}

TEST_F(TurnServerTest, DualAllocationGivesBothFamilies) {
    relay_sockets_.ipv6_available = true;
    const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
    const std::array<std::byte, 4> ipv6_family{std::byte{2}, {}, {}, {}};
    const auto answer = request(stun::Method::allocate, [&](auto& builder, const auto&) {
        builder.add(attribute::requested_transport, udp);
        builder.add(attribute::additional_address_family, ipv6_family);
    });
    ASSERT_TRUE(answer.is_success());
    int relayed = 0;
    const auto message = answer.message();  // attributes() views into it: keep it alive
    for (const auto& raw : message.attributes()) {
        relayed += raw.type == attribute::xor_relayed_address;
    }
    EXPECT_EQ(relayed, 2);
}

TEST_F(TurnServerTest, LifetimeIsClampedBetweenDefaultAndMaximum) {
    const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
    const auto answer = request(stun::Method::allocate, [&](auto& builder, const auto&) {
        builder.add(attribute::requested_transport, udp);
        builder.add_u32(attribute::lifetime, 100000);
    });
    EXPECT_EQ(lifetime_of(answer), 3600u);
    EXPECT_EQ(lifetime_of(refresh(10)), 600u);
    EXPECT_EQ(lifetime_of(refresh(1200)), 1200u);
}

TEST_F(TurnServerTest, RefreshWithZeroLifetimeDeletes) {
    allocate();
    const auto answer = refresh(0);
    ASSERT_TRUE(answer.is_success());
    EXPECT_EQ(lifetime_of(answer), 0u);
    EXPECT_EQ(server_.allocation_count(), 0u);
    ASSERT_EQ(events_.deleted.size(), 1u);
    EXPECT_EQ(events_.deleted[0], DeleteReason::client_request);
    EXPECT_EQ(relay_sockets_.close_count, 1);
    EXPECT_EQ(authenticator_.released, 1);
    EXPECT_EQ(refresh(600).error_code(), 437);
}

TEST_F(TurnServerTest, RequestsWithAnotherUsernameGet441) {
    allocate();
    const auto answer = request(
        stun::Method::refresh, [](auto&, const auto&) {}, true, "fresh-nonce", "s1:bob");
    EXPECT_EQ(answer.error_code(), 441);
}

TEST_F(TurnServerTest, RefreshOfAnEndedSessionIsRefusedAndTheAllocationGoes) {
    allocate();
    authenticator_.next_check = SessionRefusal::not_active;
    EXPECT_EQ(refresh(600).error_code(), 401);
    EXPECT_EQ(server_.allocation_count(), 0u);
}

TEST_F(TurnServerTest, SessionRefusalsMapToErrors) {
    authenticator_.next_admission = SessionRefusal::cap_reached;
    EXPECT_EQ(allocate().error_code(), 486);
    authenticator_.next_admission = SessionRefusal::not_participant;
    EXPECT_EQ(allocate().error_code(), 401);
    authenticator_.next_admission = SessionRefusal::store_unavailable;
    EXPECT_EQ(allocate().error_code(), 500);
    EXPECT_EQ(limits_.quota.total(), 0u);
}

TEST_F(TurnServerTest, PerUserQuotaGives486) {
    // Three five-tuples of one user fill the quota of 3; the fourth is refused.
    for (std::uint16_t port = 0; port < 4; ++port) {
        client_.port = static_cast<std::uint16_t>(41000 + port);
        const auto answer = allocate();
        if (port < 3) {
            EXPECT_TRUE(answer.is_success());
        } else {
            EXPECT_EQ(answer.error_code(), 486);
        }
    }
}

TEST_F(TurnServerTest, NoRelayPortGives508AndReleasesEverything) {
    relay_sockets_.fail_next = true;
    EXPECT_EQ(allocate().error_code(), 508);
    EXPECT_EQ(limits_.quota.total(), 0u);
    EXPECT_EQ(authenticator_.released, 1);
}

TEST_F(TurnServerTest, AllocationExpiresAfterItsLifetime) {
    allocate();
    advance(Seconds{599});
    server_.expire(now_);
    EXPECT_EQ(server_.allocation_count(), 1u);
    advance(Seconds{1});
    server_.expire(now_);
    EXPECT_EQ(server_.allocation_count(), 0u);
    EXPECT_EQ(events_.deleted.at(0), DeleteReason::expired);
}

TEST_F(TurnServerTest, CreatePermissionRefusesPolicyPeersWith403) {
    allocate();
    EXPECT_EQ(create_permission(*TransportAddress::parse("10.0.0.1:5000")).error_code(), 403);
    EXPECT_EQ(create_permission(*TransportAddress::parse("[::ffff:127.0.0.1]:5000")).error_code(),
              403);
    EXPECT_EQ(server_.counters().peer_policy_refusals, 2u);
    EXPECT_EQ(server_.find(tuple())->client_to_peer.dropped_peer_policy, 2u);
    EXPECT_EQ(events_.peer_refusals, 1);  // logged once per allocation
    EXPECT_TRUE(create_permission(peer_).is_success());
}

TEST_F(TurnServerTest, SendToARefusedPeerIsDroppedAndCountedAsPolicy) {
    allocate();
    std::array<std::byte, 256> buffer{};
    stun::MessageBuilder builder(buffer, stun::Method::send, stun::MessageClass::indication,
                                 next_transaction());
    builder.add_xor_address(attribute::xor_peer_address,
                            *TransportAddress::parse("169.254.169.254:80"));
    builder.add(attribute::data, as_bytes("GET"));
    const auto parsed = stun::MessageView::parse(builder.finish());
    EXPECT_FALSE(server_.handle_stun(*parsed, tuple(), now_, &link_).to_peer.has_value());
    EXPECT_EQ(server_.find(tuple())->client_to_peer.dropped_peer_policy, 1u);
    EXPECT_EQ(server_.find(tuple())->client_to_peer.dropped_no_permission, 0u);
    EXPECT_EQ(events_.peer_refusals, 1);
}

TEST_F(TurnServerTest, APermittedAddressOfTheRelayStillKeepsItsServicePortsShut) {
    // The demo's policy: loopback allowed, and hearthd listening on 127.0.0.1.
    PeerPolicy policy({*AddressRange::parse("127.0.0.0/8")});
    policy.add_own_address(*IpAddress::parse("127.0.0.1"));
    policy.add_service_port(9478);  // the admin API
    server_.apply(ServerSettings{}, std::move(policy));
    allocate();
    EXPECT_EQ(create_permission(*TransportAddress::parse("127.0.0.1:9478")).error_code(), 403);
    ASSERT_TRUE(create_permission(*TransportAddress::parse("127.0.0.1:5000")).is_success());
    const auto send = [&](const char* peer) {
        std::array<std::byte, 256> buffer{};
        stun::MessageBuilder builder(buffer, stun::Method::send, stun::MessageClass::indication,
                                     next_transaction());
        builder.add_xor_address(attribute::xor_peer_address, *TransportAddress::parse(peer));
        builder.add(attribute::data, as_bytes("GET /v1/sessions"));
        const auto parsed = stun::MessageView::parse(builder.finish());
        return server_.handle_stun(*parsed, tuple(), now_, &link_).to_peer;
    };
    // The permission for 127.0.0.1 covers its every port (RFC 8656 §9) but the admin API's.
    EXPECT_FALSE(send("127.0.0.1:9478").has_value());
    EXPECT_TRUE(send("127.0.0.1:5001").has_value());
    EXPECT_EQ(server_.find(tuple())->client_to_peer.dropped_peer_policy, 2u);
    EXPECT_EQ(server_.counters().peer_policy_refusals, 2u);
}

TEST_F(TurnServerTest, ChannelDataToAnotherAllocationOfThisRelayStopsTheMomentItEnds) {
    // The other allocation holds 203.0.113.5:50500, as the relay's socket pool marks it;
    // its address is in a refused range, which another allocation of the relay may be.
    LiveRelayedPorts live;
    live.add(AddressFamily::ipv4, RelayProtocol::udp, 50500);
    PeerPolicy policy;
    policy.add_relayed_range(*IpAddress::parse("203.0.113.5"), 50000, 50999, live);
    server_.apply(ServerSettings{}, std::move(policy));
    allocate();
    ASSERT_TRUE(channel_bind(0x4001, *TransportAddress::parse("203.0.113.5:50500")).is_success());
    const std::array<std::byte, 7> datagram{std::byte{0x40}, std::byte{0x01}, std::byte{0},
                                            std::byte{3},    std::byte{'a'},  std::byte{'b'},
                                            std::byte{'c'}};
    const auto relayed = [&] {
        return server_.handle_channel_data(tuple(), datagram, now_.monotonic).has_value();
    };
    EXPECT_TRUE(relayed());
    // It ends: the port is the host's again, though the channel and permission live on.
    live.remove(AddressFamily::ipv4, RelayProtocol::udp, 50500);
    EXPECT_FALSE(relayed());
    EXPECT_FALSE(relayed());
    const auto* allocation = server_.find(tuple());
    EXPECT_EQ(allocation->client_to_peer.packets, 1u);
    EXPECT_EQ(allocation->client_to_peer.dropped_peer_policy, 2u);
    EXPECT_EQ(server_.counters().peer_policy_refusals, 2u);
}

TEST_F(TurnServerTest, CreatePermissionForTheOtherFamilyGets443) {
    allocate();
    EXPECT_EQ(create_permission(*TransportAddress::parse("[2606:4700::1]:5000")).error_code(), 443);
}

TEST_F(TurnServerTest, CreatePermissionWithoutAllocationGets437) {
    EXPECT_EQ(create_permission(peer_).error_code(), 437);
}

TEST_F(TurnServerTest, SendIndicationNeedsAPermission) {
    allocate();
    auto send = [&] {
        std::array<std::byte, 256> buffer{};
        stun::MessageBuilder builder(buffer, stun::Method::send, stun::MessageClass::indication,
                                     next_transaction());
        builder.add_xor_address(attribute::xor_peer_address, peer_);
        builder.add(attribute::data, as_bytes("hello"));
        const auto parsed = stun::MessageView::parse(builder.finish());
        return server_.handle_stun(*parsed, tuple(), now_, &link_).to_peer;
    };
    EXPECT_FALSE(send().has_value());
    ASSERT_TRUE(create_permission(peer_).is_success());
    const auto forwarded = send();
    ASSERT_TRUE(forwarded.has_value());
    EXPECT_EQ(forwarded->peer, peer_);
    EXPECT_EQ(forwarded->payload.size(), 5u);
    EXPECT_EQ(forwarded->relay->address.port, relay_port_base);
    advance(permission_lifetime);
    EXPECT_FALSE(send().has_value());  // RFC 8656 §9: permissions last 300 s
}

TEST_F(TurnServerTest, ChannelBindRules) {
    allocate();
    const auto other_peer = *TransportAddress::parse("8.8.4.4:6000");
    EXPECT_EQ(channel_bind(0x3FFF, peer_).error_code(), 400);
    EXPECT_EQ(channel_bind(0x8000, peer_).error_code(), 400);
    EXPECT_TRUE(channel_bind(0x4000, peer_).is_success());
    EXPECT_TRUE(channel_bind(0x4000, peer_).is_success());          // refresh
    EXPECT_EQ(channel_bind(0x4000, other_peer).error_code(), 400);  // number taken
    EXPECT_EQ(channel_bind(0x4001, peer_).error_code(), 400);       // peer taken
    EXPECT_EQ(channel_bind(0x4001, *TransportAddress::parse("192.168.0.1:1")).error_code(), 403);
    // RFC 8656 §12.2: after expiry the number stays reserved for 5 more minutes.
    advance(channel_lifetime);
    EXPECT_EQ(channel_bind(0x4000, other_peer).error_code(), 400);
    advance(channel_quarantine);
    EXPECT_TRUE(channel_bind(0x4000, other_peer).is_success());
}

TEST_F(TurnServerTest, DataOverTheAllocationsBandwidthIsDroppedAndCounted) {
    allocate();
    ASSERT_TRUE(channel_bind(0x4001, peer_).is_success());
    std::vector<std::byte> datagram(4 + 1000);
    datagram[0] = std::byte{0x40};
    datagram[1] = std::byte{0x01};
    datagram[2] = std::byte{1000 >> 8};
    datagram[3] = std::byte{1000 & 0xFF};

    // The default 10 Mbit/s saves up half a second: 5 Mbit, 625 packets of 1000 bytes.
    int relayed = 0;
    while (server_.handle_channel_data(tuple(), datagram, now_.monotonic).has_value() &&
           relayed < 10'000) {
        ++relayed;
    }
    EXPECT_EQ(relayed, 625);
    const auto* allocation = server_.find(tuple());
    EXPECT_EQ(allocation->client_to_peer.dropped_bandwidth, 1u);
    EXPECT_EQ(server_.counters().dropped_bandwidth, 1u);

    // The other direction has its own bucket; a millisecond later there is room again.
    std::vector<std::byte> buffer(peer_data_headroom + 1000 + peer_data_tailroom);
    EXPECT_FALSE(
        server_
            .wrap_peer_datagram(*server_.find(tuple()), peer_, buffer, 1000, now_.monotonic, false)
            .empty());
    EXPECT_TRUE(
        server_
            .handle_channel_data(tuple(), datagram, now_.monotonic + std::chrono::milliseconds(1))
            .has_value());
}

TEST_F(TurnServerTest, ChannelDataFlowsBothWays) {
    allocate();
    ASSERT_TRUE(channel_bind(0x4001, peer_).is_success());

    const std::array<std::byte, 8> to_peer{std::byte{0x40}, std::byte{0x01}, std::byte{0},
                                           std::byte{3},    std::byte{'a'},  std::byte{'b'},
                                           std::byte{'c'},  std::byte{0}};
    const auto sent = server_.handle_channel_data(tuple(), to_peer, now_.monotonic);
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ(sent->peer, peer_);
    EXPECT_EQ(sent->payload.size(), 3u);

    const std::array<std::byte, 8> unbound{
        std::byte{0x40}, std::byte{0x02}, std::byte{0}, std::byte{1}, std::byte{'x'}, {}, {}, {}};
    EXPECT_FALSE(server_.handle_channel_data(tuple(), unbound, now_.monotonic).has_value());

    std::vector<std::byte> buffer(peer_data_headroom + 5 + peer_data_tailroom);
    std::memcpy(buffer.data() + peer_data_headroom, "hello", 5);
    auto* allocation = server_.find(tuple());
    const auto wrapped =
        server_.wrap_peer_datagram(*allocation, peer_, buffer, 5, now_.monotonic, true);
    ASSERT_EQ(wrapped.size(), 12u);  // header + 5 bytes + 3 padding on a stream
    const auto parsed = stun::parse_channel_data(wrapped);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->channel_number, 0x4001);
    EXPECT_EQ(parsed->payload.size(), 5u);
    EXPECT_EQ(allocation->peer_to_client.packets, 1u);
    EXPECT_EQ(allocation->client_to_peer.packets, 1u);
}

TEST_F(TurnServerTest, PeerDataWithoutChannelBecomesADataIndication) {
    allocate();
    ASSERT_TRUE(create_permission(peer_).is_success());
    std::vector<std::byte> buffer(peer_data_headroom + 5 + peer_data_tailroom);
    std::memcpy(buffer.data() + peer_data_headroom, "hello", 5);
    auto* allocation = server_.find(tuple());
    const auto wrapped =
        server_.wrap_peer_datagram(*allocation, peer_, buffer, 5, now_.monotonic, false);
    const auto message = stun::MessageView::parse(wrapped);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->method(), stun::Method::data);
    EXPECT_EQ(message->message_class(), stun::MessageClass::indication);
    EXPECT_EQ(stun::decode_xor_address(*message->find(attribute::xor_peer_address),
                                       message->transaction_id()),
              peer_);
    EXPECT_EQ(message->find(attribute::data)->size(), 5u);
}

TEST_F(TurnServerTest, PeerDataWithoutPermissionIsDropped) {
    allocate();
    std::vector<std::byte> buffer(peer_data_headroom + 5 + peer_data_tailroom);
    auto* allocation = server_.find(tuple());
    EXPECT_TRUE(
        server_.wrap_peer_datagram(*allocation, peer_, buffer, 5, now_.monotonic, false).empty());
    EXPECT_EQ(allocation->peer_to_client.dropped_no_permission, 1u);
}

TEST_F(TurnServerTest, PermissionTableIsBounded) {
    allocate();
    for (int i = 0; i < 32; ++i) {
        const auto peer =
            TransportAddress{IpAddress::v4(0x08080000u + static_cast<unsigned>(i)), 1};
        ASSERT_TRUE(create_permission(peer).is_success()) << i;
    }
    EXPECT_EQ(create_permission(*TransportAddress::parse("9.9.9.9:1")).error_code(), 508);
}

TEST_F(TurnServerTest, ClientGoneAndRevocationDeleteAllocations) {
    allocate();
    EXPECT_EQ(server_.delete_where_session("s2", "", DeleteReason::revoked), 0u);
    EXPECT_EQ(server_.delete_where_session("s1", "alice", DeleteReason::revoked), 1u);
    allocate();
    server_.client_gone(tuple());
    EXPECT_EQ(server_.allocation_count(), 0u);
}

TEST_F(TurnServerTest, AllocatesPastThePerSourceRateGet486WithoutTouchingAnything) {
    // 20 a second from one address, each from a new port, each released at once so that
    // the per-user quota never decides: the 21st is refused before anything is opened.
    for (std::uint16_t i = 0; i < 20; ++i) {
        client_.port = static_cast<std::uint16_t>(42000 + i);
        ASSERT_TRUE(allocate().is_success()) << i;
        server_.delete_all(DeleteReason::shutdown);
    }
    client_.port = 42100;
    EXPECT_EQ(allocate().error_code(), 486);
    EXPECT_EQ(server_.counters().allocate_rate_limited, 1u);
    EXPECT_EQ(relay_sockets_.open_count, 20);
    EXPECT_EQ(authenticator_.admitted, 20);
    advance(Seconds{1});
    EXPECT_TRUE(allocate().is_success());
}

TEST_F(TurnServerTest, AnAllocateWaitingForTheSessionStoreCountsOnceAgainstTheRate) {
    authenticator_.next_admission = SessionRefusal::pending;
    for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(allocate().bytes.empty());  // set aside each time, not answered
    }
    EXPECT_EQ(server_.counters().allocate_rate_limited, 0u);
    authenticator_.next_admission = SessionRefusal::none;
    EXPECT_TRUE(allocate().is_success());
}

TEST_F(TurnServerTest, TheUnauthenticatedRateOfASourceHoldsAcrossWorkers) {
    // The kernel spreads one address's datagrams over the workers by source port.
    TurnServer other_worker(ServerSettings{}, PeerPolicy{}, authenticator_, relay_sockets_, events_,
                            limits_, 2);
    const auto binding = [&](TurnServer& worker) {
        std::array<std::byte, 64> buffer{};
        stun::MessageBuilder builder(buffer, stun::Method::binding, stun::MessageClass::request,
                                     next_transaction());
        const auto message = stun::MessageView::parse(builder.finish());
        return !worker.handle_stun(*message, tuple(), now_, &link_).response.empty();
    };
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(binding(server_)) << i;
        ASSERT_TRUE(binding(other_worker)) << i;
    }
    EXPECT_FALSE(binding(server_));  // 20 a second from this address, on both together
    EXPECT_FALSE(binding(other_worker));
    EXPECT_EQ(server_.counters().rate_limited + other_worker.counters().rate_limited, 2u);
}

TEST_F(TurnServerTest, OneIpv4HolderBehind6to4AddressesMeetsOneUnauthenticatedRate) {
    // 100 Bindings, each from another address of 2002:c633:6407::/48 (all 198.51.100.7's,
    // RFC 3056): 20 a second are answered, as for the IPv4 address itself.
    int answered = 0;
    for (int i = 0; i < 100; ++i) {
        const auto subnet = std::to_string(i);
        client_ = *TransportAddress::parse("[2002:c633:6407:" + subnet + "::" + subnet + "]:40000");
        // A request over the rate is dropped: no answer at all.
        answered += !request(
                         stun::Method::binding, [](auto&, const auto&) {}, false)
                         .bytes.empty();
    }
    EXPECT_EQ(answered, 20);
    EXPECT_EQ(server_.counters().rate_limited, 80u);
}

TEST_F(TurnServerTest, ABanHoldsOnEveryWorker) {
    // Another worker's state machine, sharing this one's limits as hearthd's workers do.
    TurnServer other_worker(ServerSettings{}, PeerPolicy{}, authenticator_, relay_sockets_, events_,
                            limits_, 2);
    for (int i = 0; i < 10; ++i) {
        request(stun::Method::allocate, udp_transport, true, "fresh-nonce", "s1:mallory",
                std::nullopt, "wrong-password");
    }
    ASSERT_EQ(events_.banned_usernames, std::vector<std::string>{"s1:mallory"});
    std::array<std::byte, 256> buffer{};
    stun::MessageBuilder again(buffer, stun::Method::allocate, stun::MessageClass::request,
                               next_transaction());
    udp_transport(again, {});
    again.add_string(attribute::username, "s1:mallory");
    again.add_string(attribute::realm, "hearth");
    again.add_string(attribute::nonce, "fresh-nonce");
    again.add_message_integrity(stun::long_term_key_md5("s1:mallory", "hearth", "wrong"));
    const auto message = stun::MessageView::parse(again.finish());
    EXPECT_TRUE(other_worker.handle_stun(*message, tuple(), now_, &link_).response.empty());
    EXPECT_EQ(other_worker.counters().banned_drops, 1u);
}

}  // namespace
}  // namespace hearth::turn::testing

namespace hearth::turn::testing {
namespace {

// RFC 6062: what the state machine decides before the I/O layer opens any connection.
class TcpRelayTest : public TurnServerTest {
  protected:
    TcpRelayTest() {
        transport_ = ClientTransport::tcp;
        server_.apply(tcp_on(), PeerPolicy{});
    }
    static ServerSettings tcp_on() {
        ServerSettings settings;
        settings.tcp_allocations = true;
        return settings;
    }
    Answer allocate_tcp() {
        return request(stun::Method::allocate, [](stun::MessageBuilder& builder, const auto&) {
            const std::array<std::byte, 4> tcp{std::byte{6}, {}, {}, {}};
            builder.add(stun::attribute::requested_transport, tcp);
        });
    }
    Answer connect(const TransportAddress& peer) {
        return request(stun::Method::connect, [&](stun::MessageBuilder& builder, const auto&) {
            builder.add_xor_address(stun::attribute::xor_peer_address, peer);
        });
    }
};

TEST_F(TcpRelayTest, ConnectIsHandedToTheIoLayerWithAPermission) {
    ASSERT_TRUE(allocate_tcp().is_success());
    const auto answer = connect(peer_);
    EXPECT_TRUE(answer.bytes.empty());  // answered once the connection is up
    ASSERT_TRUE(last_outcome_.tcp_connect.has_value());
    EXPECT_EQ(last_outcome_.tcp_connect->peer, peer_);
    EXPECT_TRUE(server_.find(tuple())->has_permission(peer_.ip, now_.monotonic));
}

TEST_F(TcpRelayTest, ConnectToARefusedPeerGets403) {
    ASSERT_TRUE(allocate_tcp().is_success());
    EXPECT_EQ(connect(*TransportAddress::parse("10.0.0.1:80")).error_code(), 403);
    EXPECT_FALSE(last_outcome_.tcp_connect.has_value());
}

TEST_F(TcpRelayTest, TcpAllocationsAreOffByDefaultWith442Counted) {
    server_.apply(ServerSettings{}, PeerPolicy{});
    const auto refused = allocate_tcp();
    EXPECT_EQ(refused.error_code(), 442);  // RFC 6062 §5.1: the server does not do TCP relays
    EXPECT_TRUE(refused.message().has(stun::attribute::message_integrity));
    EXPECT_EQ(server_.counters().tcp_allocations_refused, 1u);
    EXPECT_EQ(server_.allocation_count(), 0u);
    EXPECT_EQ(relay_sockets_.open_count, 0);
    EXPECT_TRUE(allocate().is_success());  // UDP relays over the same connection still work
}

TEST_F(TcpRelayTest, ConnectToADeniedPortGets403CountedAndNothingOpened) {
    ASSERT_TRUE(allocate_tcp().is_success());
    for (const char* peer : {"8.8.8.8:25", "8.8.8.8:465", "1.1.1.1:587"}) {
        EXPECT_EQ(connect(*TransportAddress::parse(peer)).error_code(), 403) << peer;
        EXPECT_FALSE(last_outcome_.tcp_connect.has_value()) << peer;
    }
    EXPECT_EQ(server_.counters().tcp_connect_denied_port, 3u);
    EXPECT_FALSE(server_.find(tuple())->has_permission(peer_.ip, now_.monotonic));
    // The list is the operator's: a port taken off it may be reached.
    auto settings = tcp_on();
    settings.tcp_denied_ports = {465};
    server_.apply(settings, PeerPolicy{});
    EXPECT_TRUE(connect(*TransportAddress::parse("8.8.8.8:25")).bytes.empty());
    EXPECT_TRUE(last_outcome_.tcp_connect.has_value());
}

TEST_F(TcpRelayTest, ChannelsAndSendNeedAUdpAllocation) {
    ASSERT_TRUE(allocate_tcp().is_success());
    EXPECT_EQ(channel_bind(0x4000, peer_).error_code(), 400);
}

TEST_F(TurnServerTest, ConnectOnAUdpAllocationGets400) {
    allocate();
    const auto answer =
        request(stun::Method::connect, [&](stun::MessageBuilder& builder, const auto&) {
            builder.add_xor_address(stun::attribute::xor_peer_address, peer_);
        });
    EXPECT_EQ(answer.error_code(), 400);
}

TEST_F(TurnServerTest, ConnectionBindOverUdpGets400) {
    const auto answer =
        request(stun::Method::connection_bind, [](stun::MessageBuilder& builder, const auto&) {
            builder.add_u32(stun::attribute::connection_id, 7);
        });
    EXPECT_EQ(answer.error_code(), 400);
}

}  // namespace
}  // namespace hearth::turn::testing

namespace hearth::turn::testing {
namespace {

TEST_F(TurnServerTest, ADrainingNodeRedirectsNewAllocationsAndKeepsOldOnes) {
    ASSERT_TRUE(allocate().is_success());
    const Redirect redirect{*TransportAddress::parse("203.0.113.9:3478"), "turn2.example.org"};
    server_.set_draining(true, redirect);
    EXPECT_TRUE(refresh(600).is_success());  // existing allocations keep working

    client_.port = 41999;
    const auto answer = allocate();
    EXPECT_EQ(answer.error_code(), 300);
    const auto message = answer.message();
    EXPECT_EQ(stun::decode_address(*message.find(attribute::alternate_server)),
              redirect.alternate_server);
    EXPECT_EQ(stun::decode_software(*message.find(attribute::alternate_domain)),
              "turn2.example.org");
    EXPECT_TRUE(stun::verify_message_integrity(
        message, stun::long_term_key_md5("s1:alice", "hearth", "pw")));

    server_.set_draining(true, std::nullopt);
    EXPECT_EQ(allocate().error_code(), 508);
    server_.set_draining(false, std::nullopt);
    EXPECT_TRUE(allocate().is_success());
}

}  // namespace
}  // namespace hearth::turn::testing

namespace hearth::turn::testing {
namespace {

// Issue 17: behind one NAT address, a stranger failing with its own username must not lock
// out a participant with a valid credential.
TEST_F(TurnServerTest, RepeatedFailuresBanTheUsernameNeverAValidCredential) {
    const auto as_mallory = [&](std::string_view password) {
        return request(stun::Method::allocate, udp_transport, true, "fresh-nonce", "s1:mallory",
                       std::nullopt, password);
    };
    for (int i = 0; i < 9; ++i) {
        EXPECT_EQ(as_mallory("wrong-password").error_code(), 401) << i;
    }
    EXPECT_TRUE(events_.banned_usernames.empty());
    EXPECT_EQ(as_mallory("wrong-password").error_code(), 401);  // the tenth starts the ban
    EXPECT_EQ(events_.banned_usernames, std::vector<std::string>{"s1:mallory"});
    EXPECT_EQ(server_.counters().bans, 1u);
    // That username from this address is dropped before any credential check.
    const int checked = authenticator_.authentications;
    EXPECT_TRUE(as_mallory("pw").bytes.empty());
    EXPECT_EQ(authenticator_.authentications, checked);
    EXPECT_EQ(server_.counters().banned_drops, 1u);
    // A participant on the same address is untouched: Binding, and its own Allocate.
    EXPECT_TRUE(binding().is_success());
    EXPECT_EQ(request(stun::Method::allocate, udp_transport, false).error_code(), 401);
    EXPECT_TRUE(allocate().is_success());
    EXPECT_EQ(server_.counters().banned_drops, 1u);
    // The ban ends.
    advance(Seconds{301});
    client_.port = 40001;
    EXPECT_TRUE(as_mallory("pw").is_success());
}

// A guesser that tries a fresh username each time gets no more password checks than the
// unauthenticated rate, and still cannot shut out a valid credential from its address.
TEST_F(TurnServerTest, FailuresOverManyUsernamesThrottleTheSourceWithoutLockingItOut) {
    int guess = 0;
    const auto guess_again = [&] {
        const std::string username = "s1:guess-" + std::to_string(++guess);
        return request(stun::Method::allocate, udp_transport, true, "fresh-nonce", username,
                       std::nullopt, "wrong-password");
    };
    for (int i = 0; i < 29; ++i) {
        EXPECT_EQ(guess_again().error_code(), 401) << i;
        if (i % 10 == 9) {
            advance(Seconds{1});  // past the unauthenticated answers' rate limit
        }
    }
    EXPECT_EQ(events_.throttles, 0);
    EXPECT_TRUE(guess_again().bytes.empty());  // the thirtieth throttles the source
    EXPECT_EQ(events_.throttles, 1);
    EXPECT_TRUE(events_.banned_usernames.empty());
    EXPECT_TRUE(guess_again().bytes.empty());  // failures now go unanswered
    EXPECT_EQ(server_.counters().throttled_drops, 2u);
    EXPECT_EQ(server_.counters().source_throttles, 1u);
    // A participant on that address: Binding answered, its valid credential accepted.
    advance(Seconds{1});
    EXPECT_TRUE(binding().is_success());
    EXPECT_TRUE(allocate().is_success());
    // Credential checks from the throttled address stop at the unauthenticated rate.
    const int before = authenticator_.authentications;
    for (int i = 0; i < 40; ++i) {
        guess_again();
    }
    EXPECT_LE(authenticator_.authentications - before, 20);
    EXPECT_GE(server_.counters().rate_limited, 20u);
}

TEST_F(TurnServerTest, FailuresBeforeTheNonceNeverBanTheSource) {
    // Without a valid nonce a request may come from anyone forging the source address.
    for (const auto failure :
         {AuthFailure::missing_attributes, AuthFailure::wrong_realm, AuthFailure::stale_nonce}) {
        authenticator_.next_failure = failure;
        for (int i = 0; i < 20; ++i) {
            EXPECT_FALSE(allocate().bytes.empty()) << to_string(failure) << " " << i;
        }
        advance(Seconds{1});  // past the unauthenticated answers' rate limit
    }
    EXPECT_TRUE(events_.banned_usernames.empty());
    EXPECT_EQ(events_.throttles, 0);
    EXPECT_EQ(server_.counters().auth_failures, 60u);
    authenticator_.next_failure.reset();
    EXPECT_TRUE(allocate().is_success());
}

}  // namespace
}  // namespace hearth::turn::testing

namespace hearth::turn::testing {
namespace {

// Histograms are observed once per allocation: its setup as it is made (from the request's
// first arrival, kept by a request that waited for the session store), its life, and its
// loss and jitter only when it carried RTP, as it ends.
TEST_F(TurnServerTest, AnAllocationsSetupIsTimedFromItsRequestsFirstArrival) {
    now_.received = now_.monotonic - std::chrono::milliseconds(30);  // parked, then resumed
    allocate();
    const auto& setup = server_.counters().histograms.setup_seconds;
    EXPECT_EQ(setup.count, 1u);
    EXPECT_NEAR(setup.sum, 0.030, 1e-9);
    EXPECT_EQ(setup.counts[5], 1u);  // 0.025 < 0.030 <= 0.05
    EXPECT_EQ(server_.counters().histograms.duration_seconds.count, 0u);
}

TEST_F(TurnServerTest, AnEndedAllocationWithoutRtpAddsADurationButNoLossOrJitter) {
    allocate();
    ASSERT_TRUE(refresh(0).is_success());
    const auto& histograms = server_.counters().histograms;
    EXPECT_EQ(histograms.duration_seconds.count, 1u);
    EXPECT_EQ(histograms.loss_ratio.count, 0u);
    EXPECT_EQ(histograms.jitter_seconds.count, 0u);
}

}  // namespace
}  // namespace hearth::turn::testing
