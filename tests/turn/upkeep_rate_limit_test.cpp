// The per-source limit on the requests that keep an allocation up: Refresh,
// CreatePermission, ChannelBind and Connect (limits.upkeep_requests_per_second).

#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

class UpkeepRateLimitTest : public TurnServerTest {
  protected:
    void set_upkeep_rate(std::uint32_t per_second) {
        ServerSettings settings;
        settings.upkeep_requests_per_second = per_second;
        server_.apply(settings, PeerPolicy{});
    }
};

TEST_F(UpkeepRateLimitTest, TheRequestPastTheRateGets486AndIsCounted) {
    ASSERT_TRUE(allocate().is_success());
    for (int i = 0; i < 200; ++i) {  // the default rate
        ASSERT_TRUE(refresh(600).is_success()) << i;
    }
    const auto refused = refresh(600);
    EXPECT_EQ(refused.error_code(), 486);
    EXPECT_TRUE(refused.message().has(stun::attribute::message_integrity));
    EXPECT_EQ(server_.counters().upkeep_rate_limited, 1u);
    EXPECT_EQ(events_.refusals.back(),
              std::make_pair(486, std::string("request rate of this address")));
    EXPECT_EQ(server_.allocation_count(), 1u);  // refused, not harmed
    advance(Seconds{1});
    EXPECT_TRUE(refresh(600).is_success());
}

TEST_F(UpkeepRateLimitTest, RefreshCreatePermissionChannelBindAndConnectShareOneBudget) {
    set_upkeep_rate(4);
    ASSERT_TRUE(allocate().is_success());
    const auto connect = [&] {
        return request(stun::Method::connect, [&](auto& builder, const auto&) {
            builder.add_xor_address(stun::attribute::xor_peer_address, peer_);
        });
    };
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_TRUE(create_permission(peer_).is_success());
    EXPECT_TRUE(channel_bind(0x4000, peer_).is_success());
    EXPECT_EQ(connect().error_code(), 400);  // on a UDP allocation, but counted all the same
    EXPECT_EQ(create_permission(peer_).error_code(), 486);
    EXPECT_EQ(channel_bind(0x4000, peer_).error_code(), 486);
    EXPECT_EQ(connect().error_code(), 486);
    EXPECT_EQ(refresh(600).error_code(), 486);
    EXPECT_EQ(server_.counters().upkeep_rate_limited, 4u);
}

TEST_F(UpkeepRateLimitTest, AllocateBindingAndConnectionBindDoNotCount) {
    set_upkeep_rate(1);
    transport_ = ClientTransport::tcp;
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(request(
                        stun::Method::binding, [](auto&, const auto&) {}, false)
                        .is_success());
        request(stun::Method::connection_bind, [](auto& builder, const auto&) {
            builder.add_u32(stun::attribute::connection_id, 7);
        });
        EXPECT_TRUE(last_outcome_.tcp_connection_bind.has_value()) << i;
    }
    ASSERT_TRUE(allocate().is_success());
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_EQ(refresh(600).error_code(), 486);
    EXPECT_EQ(server_.counters().upkeep_rate_limited, 1u);
}

TEST_F(UpkeepRateLimitTest, TheLimitIsPerSourceAddress) {
    set_upkeep_rate(2);
    ASSERT_TRUE(allocate().is_success());
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_EQ(refresh(600).error_code(), 486);

    // Another port of the same address shares its budget...
    client_.port = 40001;
    ASSERT_TRUE(allocate().is_success());
    EXPECT_EQ(refresh(600).error_code(), 486);

    // ...another address has its own.
    client_ = *TransportAddress::parse("198.51.100.8:40000");
    ASSERT_TRUE(allocate().is_success());
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_EQ(server_.counters().upkeep_rate_limited, 2u);
}

TEST_F(UpkeepRateLimitTest, ARefreshWaitingForTheSessionStoreCountsOnce) {
    set_upkeep_rate(3);
    ASSERT_TRUE(allocate().is_success());
    authenticator_.next_check = SessionRefusal::pending;
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(refresh(600).bytes.empty()) << i;  // set aside each time, not answered
        EXPECT_TRUE(last_outcome_.waiting_for.has_value()) << i;
    }
    EXPECT_EQ(server_.counters().upkeep_rate_limited, 0u);
    authenticator_.next_check = SessionRefusal::none;
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(refresh(600).is_success()) << i;
    }
    EXPECT_EQ(refresh(600).error_code(), 486);
}

TEST_F(UpkeepRateLimitTest, ZeroMeansNoLimit) {
    set_upkeep_rate(0);
    ASSERT_TRUE(allocate().is_success());
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(refresh(600).is_success()) << i;
    }
    EXPECT_EQ(server_.counters().upkeep_rate_limited, 0u);
}

TEST_F(UpkeepRateLimitTest, TheRateOfASourceHoldsAcrossWorkers) {
    // The kernel spreads one address's datagrams over the workers by source port.
    ServerSettings settings;
    settings.upkeep_requests_per_second = 2;
    server_.apply(settings, PeerPolicy{});
    TurnServer other_worker(settings, PeerPolicy{}, authenticator_, relay_sockets_, events_,
                            limits_, 2);
    ASSERT_TRUE(allocate().is_success());
    EXPECT_TRUE(refresh(600).is_success());
    EXPECT_TRUE(refresh(600).is_success());

    client_.port = 40001;
    std::array<std::byte, 256> buffer{};
    stun::MessageBuilder builder(buffer, stun::Method::refresh, stun::MessageClass::request,
                                 next_transaction());
    builder.add_string(stun::attribute::username, "s1:alice");
    builder.add_string(stun::attribute::realm, "hearth");
    builder.add_string(stun::attribute::nonce, "fresh-nonce");
    builder.add_message_integrity(stun::long_term_key_md5("s1:alice", "hearth", "pw"));
    const auto message = stun::MessageView::parse(builder.finish());
    const auto outcome = other_worker.handle_stun(*message, tuple(), now_, &link_);
    const Answer answer{{outcome.response.begin(), outcome.response.end()}};
    EXPECT_EQ(answer.error_code(), 486);
    EXPECT_EQ(other_worker.counters().upkeep_rate_limited, 1u);
}

}  // namespace
}  // namespace hearth::turn::testing
