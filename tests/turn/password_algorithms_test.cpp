// RFC 8489 §9.2 in the server: the 401's nonce cookie and PASSWORD-ALGORITHMS, allocations
// made with SHA-256 and answered with MESSAGE-INTEGRITY-SHA256, the bid-down attack of
// §9.2.1 refused, USERHASH on an allocation's 5-tuple, RFC 5389 clients (every browser)
// answered as before.

#include <cstring>

#include "relay/stun/channel_data.h"
#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

namespace attribute = stun::attribute;
using stun::IntegrityAttribute;
using stun::IntegrityKey;

const std::string offered_nonce = stun::nonce_cookie_for({.password_algorithms = true}) + "fresh";

class PasswordAlgorithmsTest : public TurnServerTest {
  protected:
    PasswordAlgorithmsTest() {
        authenticator_.nonce_value = offered_nonce;
        signing_.sha256 = true;
    }
    template <typename Fill>
    Answer signed_request(stun::Method method, Fill&& fill) {
        return request(method, std::forward<Fill>(fill), true, offered_nonce);
    }
    Answer allocate() { return signed_request(stun::Method::allocate, udp_transport); }

    static stun::Sha256Key sha256_key() {
        return stun::long_term_key_sha256("s1:alice", "hearth", "pw");
    }
    static stun::Md5Key md5_key() { return stun::long_term_key_md5("s1:alice", "hearth", "pw"); }

    static void expect_signed_with_sha256(const Answer& answer, const char* what) {
        const auto message = answer.message();
        EXPECT_TRUE(stun::verify_message_integrity_sha256(message, sha256_key())) << what;
        EXPECT_FALSE(message.has(attribute::message_integrity)) << what;
    }
};

void nothing(stun::MessageBuilder&, const stun::TransactionId&) {}

TEST_F(PasswordAlgorithmsTest, The401OffersSha256ThenMd5InANonceThatSaysSo) {
    const auto answer = request(stun::Method::allocate, udp_transport, false);
    ASSERT_EQ(answer.error_code(), 401);
    const auto message = answer.message();
    EXPECT_EQ(stun::decode_realm(*message.find(attribute::realm)), "hearth");
    EXPECT_EQ(stun::decode_nonce(*message.find(attribute::nonce)), offered_nonce);
    ASSERT_TRUE(message.has(attribute::password_algorithms));
    EXPECT_TRUE(std::ranges::equal(*message.find(attribute::password_algorithms),
                                   offered_password_algorithms()));
    ASSERT_EQ(authenticator_.nonce_features.size(), 1u);
    EXPECT_EQ(authenticator_.nonce_features.back(),
              (stun::SecurityFeatures{.password_algorithms = true, .username_anonymity = false}));
    // RFC 8489 §9.2.4: and the 438 of a stale nonce carries them too.
    const auto stale = request(stun::Method::allocate, udp_transport, true, "stale");
    ASSERT_EQ(stale.error_code(), 438);
    EXPECT_TRUE(stale.message().has(attribute::password_algorithms));
}

TEST_F(PasswordAlgorithmsTest, AWholeSha256AllocationIsAnsweredWithMessageIntegritySha256) {
    const auto allocated = allocate();
    ASSERT_TRUE(allocated.is_success()) << allocated.error_code();
    expect_signed_with_sha256(allocated, "Allocate");
    EXPECT_EQ(server_.find(tuple())->owner().username, "s1:alice");

    const auto permitted = signed_request(
        stun::Method::create_permission, [&](stun::MessageBuilder& builder, const auto&) {
            builder.add_xor_address(attribute::xor_peer_address, peer_);
        });
    ASSERT_TRUE(permitted.is_success()) << permitted.error_code();
    expect_signed_with_sha256(permitted, "CreatePermission");

    const auto bound =
        signed_request(stun::Method::channel_bind, [&](stun::MessageBuilder& builder, const auto&) {
            const std::array<std::byte, 4> number{std::byte{0x40}, std::byte{0x01}, {}, {}};
            builder.add(attribute::channel_number, number);
            builder.add_xor_address(attribute::xor_peer_address, peer_);
        });
    ASSERT_TRUE(bound.is_success()) << bound.error_code();
    expect_signed_with_sha256(bound, "ChannelBind");

    const auto refreshed =
        signed_request(stun::Method::refresh, [](stun::MessageBuilder& builder, const auto&) {
            builder.add_u32(attribute::lifetime, 600);
        });
    ASSERT_TRUE(refreshed.is_success()) << refreshed.error_code();
    expect_signed_with_sha256(refreshed, "Refresh");

    // An error to an authenticated request is signed the same way (RFC 8489 §9.2.4).
    const auto refused = signed_request(
        stun::Method::create_permission, [](stun::MessageBuilder& builder, const auto&) {
            builder.add_xor_address(attribute::xor_peer_address,
                                    *TransportAddress::parse("10.0.0.1:80"));
        });
    ASSERT_EQ(refused.error_code(), 403);
    expect_signed_with_sha256(refused, "403");

    const std::array<std::byte, 8> data{std::byte{0x40}, std::byte{0x01}, std::byte{0},
                                        std::byte{3},    std::byte{'a'},  std::byte{'b'},
                                        std::byte{'c'},  std::byte{0}};
    const auto sent = server_.handle_channel_data(tuple(), data, now_.monotonic);
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ(sent->peer, peer_);
}

// RFC 8489 §9.2.4: a client that sends neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM
// (Chromium, Firefox, Safari: RFC 5389) is an MD5 client, whatever the nonce's cookie says.
TEST_F(PasswordAlgorithmsTest, ABrowserStillGetsMd5AndMessageIntegrity) {
    signing_.sha256 = false;
    const auto allocated = allocate();
    ASSERT_TRUE(allocated.is_success()) << allocated.error_code();
    EXPECT_TRUE(stun::verify_message_integrity(allocated.message(), md5_key()));
    EXPECT_FALSE(allocated.message().has(attribute::message_integrity_sha256));
}

// RFC 8489 §9.2.1: someone on the path rewrote the 401's PASSWORD-ALGORITHMS to MD5 only;
// the client echoes what it saw, the nonce says what was sent.
TEST_F(PasswordAlgorithmsTest, ABidDownGets400IsCountedAndNeverBans) {
    signing_.sha256 = false;
    const auto md5_only = stun::encode_password_algorithm(stun::PasswordAlgorithm::md5);
    const auto bid_down = [&](stun::MessageBuilder& builder, const stun::TransactionId& id) {
        udp_transport(builder, id);
        builder.add(attribute::password_algorithms, md5_only);
        builder.add(attribute::password_algorithm, md5_only);
    };
    for (int i = 0; i < 12; ++i) {  // past the 10 failures that ban a wrong password
        const auto answer = signed_request(stun::Method::allocate, bid_down);
        ASSERT_EQ(answer.error_code(), 400) << i;
        EXPECT_FALSE(answer.message().has(attribute::message_integrity));
        EXPECT_FALSE(answer.message().has(attribute::nonce));
    }
    EXPECT_EQ(server_.counters().auth_failure_bid_down, 12u);
    EXPECT_EQ(server_.counters().bans, 0u);
    EXPECT_EQ(server_.allocation_count(), 0u);
    EXPECT_EQ(events_.refusals.back().second, to_string(AuthFailure::bid_down));
    EXPECT_TRUE(allocate().is_success());  // the same client, with what was offered
}

// SECURITY.md, "Username anonymity": a USERHASH is checked against the username of the
// allocation on its 5-tuple, and nonces given on such a 5-tuple say so.
TEST_F(PasswordAlgorithmsTest, AUserhashIsAcceptedOnTheAllocationsFiveTuple) {
    ASSERT_TRUE(allocate().is_success());
    EXPECT_EQ(request(stun::Method::refresh, nothing, true, "stale").error_code(), 438);
    EXPECT_EQ(authenticator_.nonce_features.back(),
              (stun::SecurityFeatures{.password_algorithms = true, .username_anonymity = true}));

    signing_.userhash = true;
    const auto permitted = signed_request(
        stun::Method::create_permission, [&](stun::MessageBuilder& builder, const auto&) {
            builder.add_xor_address(attribute::xor_peer_address, peer_);
        });
    ASSERT_TRUE(permitted.is_success()) << permitted.error_code();
    expect_signed_with_sha256(permitted, "CreatePermission with USERHASH");
    const auto other = request(stun::Method::refresh, nothing, true, offered_nonce, "s1:bob");
    EXPECT_EQ(other.error_code(), 401);  // bob's hash is not this allocation's
    EXPECT_EQ(server_.counters().auth_failure_unknown_userhash, 1u);
}

TEST_F(PasswordAlgorithmsTest, AUserhashWithoutAnAllocationGets401WithoutAnonymityAndNoBan) {
    signing_.userhash = true;
    for (int i = 0; i < 12; ++i) {
        const auto answer = allocate();
        ASSERT_EQ(answer.error_code(), 401) << i;
        EXPECT_EQ(authenticator_.nonce_features.back(),
                  (stun::SecurityFeatures{.password_algorithms = true}));
    }
    EXPECT_EQ(server_.counters().auth_failure_unknown_userhash, 12u);
    EXPECT_EQ(server_.counters().bans, 0u);
    signing_.userhash = false;
    EXPECT_TRUE(allocate().is_success());  // the retry with USERNAME the 401 calls for
}

TEST_F(PasswordAlgorithmsTest, ABindingWithCredentialsIsCheckedAndItsAnswerSigned) {
    const auto answer = signed_request(stun::Method::binding, nothing);
    ASSERT_TRUE(answer.is_success()) << answer.error_code();
    EXPECT_TRUE(answer.message().has(attribute::xor_mapped_address));
    expect_signed_with_sha256(answer, "Binding");

    const auto wrong = request(stun::Method::binding, nothing, true, offered_nonce, "s1:alice",
                               std::nullopt, "not-pw");
    EXPECT_EQ(wrong.error_code(), 401);
    const auto plain = request(stun::Method::binding, nothing, false);
    ASSERT_TRUE(plain.is_success());
    EXPECT_FALSE(plain.message().has(attribute::message_integrity_sha256));
    EXPECT_FALSE(plain.message().has(attribute::message_integrity));
}

// RFC 6062: Connect and ConnectionBind are answered later, with the key of their request.
TEST_F(PasswordAlgorithmsTest, LateAnswersAreSignedLikeTheirRequest) {
    transport_ = ClientTransport::tcp;
    signed_request(stun::Method::connection_bind, [](stun::MessageBuilder& builder, const auto&) {
        builder.add_u32(attribute::connection_id, 7);
    });
    ASSERT_TRUE(last_outcome_.tcp_connection_bind.has_value());
    const auto key = last_outcome_.tcp_connection_bind->key;
    EXPECT_EQ(key,
              IntegrityKey::sha256(sha256_key(), IntegrityAttribute::message_integrity_sha256));

    const stun::TransactionId id{std::byte{9}};
    const auto sha256 =
        server_.late_answer(stun::Method::connection_bind, id, key, std::nullopt, std::nullopt);
    expect_signed_with_sha256(Answer{{sha256.begin(), sha256.end()}}, "ConnectionBind");
    const auto md5 =
        server_.late_answer(stun::Method::connect, id,
                            IntegrityKey::md5(md5_key(), IntegrityAttribute::message_integrity),
                            TurnError::connection_timeout_or_failure, std::nullopt);
    const Answer md5_answer{{md5.begin(), md5.end()}};
    EXPECT_EQ(md5_answer.error_code(), 447);
    EXPECT_TRUE(stun::verify_message_integrity(md5_answer.message(), md5_key()));
    EXPECT_FALSE(md5_answer.message().has(attribute::message_integrity_sha256));
}

}  // namespace
}  // namespace hearth::turn::testing
