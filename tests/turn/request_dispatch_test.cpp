// handle_stun's dispatch: which messages reach a method's handler, and what a request must
// have (credentials, the 5-tuple's allocation, its username) before it does.

#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

namespace attribute = stun::attribute;

void nothing(stun::MessageBuilder&, const stun::TransactionId&) {}

// The methods that act on the 5-tuple's allocation, each with the attributes it needs.
struct MethodOnAnAllocation {
    const char* name;
    stun::Method method;
    void (*fill)(stun::MessageBuilder&, const stun::TransactionId&);
};
const TransportAddress peer = *TransportAddress::parse("8.8.8.8:5000");
const std::array<MethodOnAnAllocation, 4> methods_on_an_allocation{{
    {"Refresh", stun::Method::refresh, nothing},
    {"CreatePermission", stun::Method::create_permission,
     [](stun::MessageBuilder& builder, const stun::TransactionId&) {
         builder.add_xor_address(attribute::xor_peer_address, peer);
     }},
    {"ChannelBind", stun::Method::channel_bind,
     [](stun::MessageBuilder& builder, const stun::TransactionId&) {
         const std::array<std::byte, 4> number{std::byte{0x40}, {}, {}, {}};
         builder.add(attribute::channel_number, number);
         builder.add_xor_address(attribute::xor_peer_address, peer);
     }},
    {"Connect", stun::Method::connect,
     [](stun::MessageBuilder& builder, const stun::TransactionId&) {
         builder.add_xor_address(attribute::xor_peer_address, peer);
     }},
}};

using RequestDispatchTest = TurnServerTest;

TEST_F(RequestDispatchTest, AnUnknownMethodGets400EvenWithCredentials) {
    for (const bool with_credentials : {false, true}) {
        const auto answer = request(static_cast<stun::Method>(0x00F), nothing, with_credentials);
        EXPECT_EQ(answer.error_code(), 400) << with_credentials;
        // Answered as unauthenticated: small, no SOFTWARE, no MESSAGE-INTEGRITY.
        EXPECT_FALSE(answer.message().has(attribute::message_integrity)) << with_credentials;
        EXPECT_FALSE(answer.message().has(attribute::software)) << with_credentials;
    }
    EXPECT_EQ(events_.refusals.back(), std::make_pair(400, std::string("unsupported method")));
}

TEST_F(RequestDispatchTest, ResponsesAndIndicationsOtherThanSendAreDropped) {
    for (const auto message_class :
         {stun::MessageClass::success_response, stun::MessageClass::error_response}) {
        std::array<std::byte, 64> buffer{};
        stun::MessageBuilder builder(buffer, stun::Method::binding, message_class,
                                     next_transaction());
        const auto message = stun::MessageView::parse(builder.finish());
        EXPECT_TRUE(server_.handle_stun(*message, tuple(), now_, &link_).response.empty());
    }
    std::array<std::byte, 64> buffer{};
    stun::MessageBuilder data(buffer, stun::Method::data, stun::MessageClass::indication,
                              next_transaction());
    const auto message = stun::MessageView::parse(data.finish());
    const auto outcome = server_.handle_stun(*message, tuple(), now_, &link_);
    EXPECT_TRUE(outcome.response.empty());
    EXPECT_FALSE(outcome.to_peer.has_value());
    EXPECT_EQ(server_.counters().error_responses, 0u);
}

TEST_F(RequestDispatchTest, EveryMethodButBindingNeedsCredentials) {
    EXPECT_TRUE(request(stun::Method::binding, nothing, false).is_success());
    for (const auto& method : methods_on_an_allocation) {
        EXPECT_EQ(request(method.method, method.fill, false).error_code(), 401) << method.name;
    }
    EXPECT_EQ(request(stun::Method::allocate, udp_transport, false).error_code(), 401);
    EXPECT_EQ(request(stun::Method::connection_bind, nothing, false).error_code(), 401);
}

TEST_F(RequestDispatchTest, ARequestNeedingAnAllocationWithoutOneGets437) {
    for (const auto& method : methods_on_an_allocation) {
        const auto answer = request(method.method, method.fill);
        EXPECT_EQ(answer.error_code(), 437) << method.name;
        EXPECT_TRUE(answer.message().has(attribute::message_integrity)) << method.name;
    }
    EXPECT_EQ(events_.refusals.back(), std::make_pair(437, std::string("no allocation")));
}

TEST_F(RequestDispatchTest, ARequestWithAnotherUsernameThanTheAllocationsGets441) {
    ASSERT_TRUE(allocate().is_success());
    for (const auto& method : methods_on_an_allocation) {
        const auto answer = request(method.method, method.fill, true, "fresh-nonce", "s1:bob");
        EXPECT_EQ(answer.error_code(), 441) << method.name;
    }
    EXPECT_EQ(events_.refusals.back(), std::make_pair(441, std::string("username differs")));
    EXPECT_TRUE(refresh(600).is_success());  // the allocation's own username still works
}

TEST_F(RequestDispatchTest, ConnectionBindNeedsNoAllocation) {
    transport_ = ClientTransport::tcp;
    request(stun::Method::connection_bind, [](stun::MessageBuilder& builder, const auto&) {
        builder.add_u32(attribute::connection_id, 7);
    });
    ASSERT_TRUE(last_outcome_.tcp_connection_bind.has_value());
    EXPECT_EQ(last_outcome_.tcp_connection_bind->connection_id, 7u);
    EXPECT_EQ(last_outcome_.tcp_connection_bind->username, "s1:alice");
}

TEST_F(RequestDispatchTest, UnknownComprehensionRequiredAttributesAreCheckedBeforeTheAllocation) {
    const auto answer =
        request(stun::Method::refresh, [](stun::MessageBuilder& builder, const auto&) {
            builder.add(0x7F01, std::array<std::byte, 4>{});
        });
    EXPECT_EQ(answer.error_code(), 420);  // not 437: there is no allocation either
}

}  // namespace
}  // namespace hearth::turn::testing
