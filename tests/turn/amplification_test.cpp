// RFC 8489 §16.1.2 and RFC 8656 §21: a server must not amplify what a spoofed source sends.
// Every kind of answer a request gets before its credentials are accepted, checked against
// max_unauthenticated_answer: three times the request, or the 401 the RFC requires.

#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

namespace attribute = stun::attribute;
using Fill = std::function<void(stun::MessageBuilder&)>;

// A request written by `fill`, and the method it is sent as.
struct Probe {
    const char* name;
    stun::Method method;
    Fill fill;
    int expected;  // the error code, or 0 for a success
};

class AmplificationTest : public TurnServerTest {
  protected:
    AmplificationTest() {
        // A nonce of the length hearth's authenticator issues (tests/net checks it).
        authenticator_.nonce_value = stun::nonce_cookie_for({.password_algorithms = true}) +
                                     std::string(max_nonce_size - stun::nonce_cookie_size, 'n');
    }

    // USERNAME, REALM and NONCE as a client that had the 401 writes them.
    Fill credentials(std::string_view nonce, Fill before_integrity, std::string_view password) {
        return [this, nonce = std::string(nonce), before_integrity,
                password = std::string(password)](stun::MessageBuilder& builder) {
            builder.add_string(attribute::username, "s1:alice");
            builder.add_string(attribute::realm, authenticator_.realm_value);
            builder.add_string(attribute::nonce, nonce);
            before_integrity(builder);
            builder.add_message_integrity(
                stun::long_term_key_md5("s1:alice", authenticator_.realm_value, password));
        };
    }

    std::vector<Probe> probes() {
        const auto transport = [](stun::MessageBuilder& builder) {
            builder.add(attribute::requested_transport,
                        std::array<std::byte, 4>{std::byte{17}, {}, {}, {}});
        };
        const auto none = [](stun::MessageBuilder&) {};
        const auto unknown = [](int count) {
            return [count](stun::MessageBuilder& builder) {
                for (int i = 0; i < count; ++i) {
                    builder.add(static_cast<std::uint16_t>(0x0031 + i), {});
                }
            };
        };
        const auto md5_only = stun::encode_password_algorithm(stun::PasswordAlgorithm::md5);
        const std::string nonce = authenticator_.nonce_value;
        return {
            {"Binding", stun::Method::binding, none, 0},
            {"Binding, one unknown attribute", stun::Method::binding, unknown(1), 420},
            {"Binding, eight unknown attributes", stun::Method::binding, unknown(8), 420},
            {"unknown method", static_cast<stun::Method>(0x00F), none, 400},
            {"the smallest Allocate", stun::Method::allocate, transport, 401},
            {"a bare Refresh", stun::Method::refresh, none, 401},
            {"a bare CreatePermission", stun::Method::create_permission, none, 401},
            {"a bare ChannelBind", stun::Method::channel_bind, none, 401},
            {"a bare Connect", stun::Method::connect, none, 401},
            {"a bare ConnectionBind", stun::Method::connection_bind, none, 401},
            {"a Refresh with one empty optional attribute", stun::Method::refresh,
             [](stun::MessageBuilder& builder) { builder.add(0x8050, {}); }, 401},
            {"integrity without USERNAME", stun::Method::allocate,
             [](stun::MessageBuilder& builder) {
                 builder.add_message_integrity(std::array<std::byte, 16>{});
             },
             400},
            {"a stale nonce", stun::Method::allocate, credentials("stale", transport, "pw"), 438},
            {"a wrong password", stun::Method::allocate, credentials(nonce, transport, "x"), 401},
            {"a bid-down", stun::Method::allocate,
             credentials(
                 nonce,
                 [md5_only](stun::MessageBuilder& builder) {
                     builder.add(attribute::password_algorithms, md5_only);
                     builder.add(attribute::password_algorithm, md5_only);
                 },
                 "pw"),
             400},
            {"a USERHASH of no allocation", stun::Method::allocate,
             [this, nonce](stun::MessageBuilder& builder) {
                 builder.add(attribute::userhash,
                             stun::userhash("s1:alice", authenticator_.realm_value));
                 builder.add_string(attribute::realm, authenticator_.realm_value);
                 builder.add_string(attribute::nonce, nonce);
                 builder.add_message_integrity(std::array<std::byte, 16>{});
             },
             401},
        };
    }

    // Sends the probe from a source of its own, so that no answer is held back by the
    // per-source rate; returns the request's size and the answer.
    std::pair<std::size_t, Answer> send(const Probe& probe, bool fingerprint,
                                        const TransportAddress& from) {
        std::array<std::byte, 512> buffer{};
        stun::MessageBuilder builder(buffer, probe.method, stun::MessageClass::request,
                                     next_transaction());
        probe.fill(builder);
        if (fingerprint) {
            builder.add_fingerprint();
        }
        const auto bytes = builder.finish();
        client_ = from;
        const auto outcome =
            server_.handle_stun(*stun::MessageView::parse(bytes), tuple(), now_, &link_);
        return {bytes.size(), Answer{{outcome.response.begin(), outcome.response.end()}}};
    }
};

// A source of its own for each request: the per-source limits count an IPv6 source by its
// /64, so each gets a /64 of its own.
TransportAddress source_address(std::uint32_t index, bool ipv6) {
    if (!ipv6) {
        return {IpAddress::v4(0xC6336400u + index), 40000};
    }
    auto address = *TransportAddress::parse("[2001:db8::7]:40000");
    address.ip.bytes[6] = static_cast<std::uint8_t>(index >> 8);
    address.ip.bytes[7] = static_cast<std::uint8_t>(index);
    return address;
}

TEST_F(AmplificationTest, EveryUnauthenticatedAnswerStaysWithinTheBound) {
    std::uint32_t source = 0;
    // The default realm, and the longest the config allows.
    for (const std::string& realm : {std::string("hearth"), std::string(64, 'r')}) {
        authenticator_.realm_value = realm;
        for (const bool fingerprint : {false, true}) {
            for (const auto& probe : probes()) {
                for (const bool ipv6 : {false, true}) {
                    const auto [request_size, answer] =
                        send(probe, fingerprint, source_address(++source, ipv6));
                    const auto where =
                        std::string(probe.name) + ", realm of " + std::to_string(realm.size()) +
                        (fingerprint ? ", FINGERPRINT" : "") + (ipv6 ? ", IPv6" : "");
                    ASSERT_FALSE(answer.bytes.empty()) << where;
                    EXPECT_EQ(answer.error_code(), probe.expected) << where;
                    EXPECT_LE(answer.bytes.size(),
                              max_unauthenticated_answer(request_size, realm.size(), fingerprint))
                        << where << ": " << answer.bytes.size() << " to " << request_size;
                    const auto message = answer.message();
                    EXPECT_FALSE(message.has(attribute::software)) << where;
                    EXPECT_FALSE(message.has(attribute::message_integrity)) << where;
                    EXPECT_FALSE(message.has(attribute::message_integrity_sha256)) << where;
                    if (probe.expected != 0) {
                        EXPECT_EQ(message.has(attribute::fingerprint), fingerprint) << where;
                        EXPECT_TRUE(stun::decode_error_code(*message.find(attribute::error_code))
                                        ->reason.empty())
                            << where;
                    }
                }
            }
        }
    }
}

// Issue 17, point 9: the smallest unauthenticated Allocate (28 bytes) got a 104-byte 401.
TEST_F(AmplificationTest, TheSmallestAllocateGetsAtMostThreeTimesItsSize) {
    const auto probe = probes()[4];
    ASSERT_EQ(probe.method, stun::Method::allocate);
    const auto [request_size, answer] = send(probe, false, client_);
    EXPECT_EQ(request_size, 28u);
    EXPECT_EQ(answer.error_code(), 401);
    EXPECT_EQ(answer.bytes.size(), 84u);  // 3 x 28, with the default realm "hearth"
    // With FINGERPRINT in the request, both grow by 8 bytes.
    EXPECT_EQ(send(probe, true, *TransportAddress::parse("198.51.100.8:1")).second.bytes.size(),
              92u);
}

TEST(MaxUnauthenticatedAnswer, IsThreeTimesTheRequestOrTheSmallest401) {
    EXPECT_EQ(max_unauthenticated_answer(28, 6, false), 84u);   // the smallest Allocate
    EXPECT_EQ(max_unauthenticated_answer(20, 6, false), 84u);   // a bare header: 4.2 x
    EXPECT_EQ(max_unauthenticated_answer(28, 6, true), 92u);    // a header and FINGERPRINT
    EXPECT_EQ(max_unauthenticated_answer(36, 6, true), 108u);   // from here on, 3 x
    EXPECT_EQ(max_unauthenticated_answer(20, 64, true), 148u);  // the longest realm
    EXPECT_EQ(max_unauthenticated_answer(1000, 64, true), 3000u);
}

}  // namespace
}  // namespace hearth::turn::testing
