// RFC 8489 Appendix B.1 (as corrected by Erratum 6268) through the server: the vector's
// exact bytes, a Binding request with USERHASH, PASSWORD-ALGORITHM SHA-256 and
// MESSAGE-INTEGRITY-SHA256, handed to a TurnServer whose authenticator runs the real
// long-term credential check (long_term_credentials.cpp) with the vector's realm, nonce,
// username and password. shared/reference/rfc5769-vectors.md gives the derived keys.

#include "tests/stun/byte_helpers.h"
#include "tests/stun/rfc5769_vectors.h"
#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

namespace attribute = stun::attribute;
using stun::testing::from_hex;
using stun::testing::to_hex;

class Rfc8489VectorTest : public TurnServerTest {
  protected:
    Rfc8489VectorTest() {
        authenticator_.realm_value = "example.org";
        authenticator_.only_valid_nonce = stun::testing::nonce_b1;
        authenticator_.password = "TheMatrIX";  // after OpaqueString, as the RFC gives it
        authenticator_.userhash_candidates = {stun::testing::username_2_4};
    }
    Answer send(const std::vector<std::byte>& bytes) {
        const auto message = stun::MessageView::parse(bytes);
        EXPECT_TRUE(message.has_value());
        const auto outcome = server_.handle_stun(*message, tuple(), now_, &link_);
        return Answer{{outcome.response.begin(), outcome.response.end()}};
    }
    static stun::Sha256Key vector_key() {
        return stun::long_term_key_sha256(stun::testing::username_2_4, "example.org", "TheMatrIX");
    }
};

TEST_F(Rfc8489VectorTest, TheCorrectedB1RequestAuthenticatesAndItsAnswerIsSignedWithSha256) {
    const auto request = from_hex(stun::testing::request_b1_corrected);
    const auto answer = send(request);
    ASSERT_TRUE(answer.is_success()) << answer.error_code();
    const auto message = answer.message();
    EXPECT_EQ(message.transaction_id(), stun::MessageView::parse(request)->transaction_id());
    const auto mapped = stun::decode_xor_address(*message.find(attribute::xor_mapped_address),
                                                 message.transaction_id());
    EXPECT_EQ(mapped, client_);
    EXPECT_EQ(to_hex(vector_key()),
              "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
    EXPECT_TRUE(stun::verify_message_integrity_sha256(message, vector_key()));
    EXPECT_FALSE(message.has(attribute::message_integrity));
    EXPECT_EQ(server_.counters().auth_failures, 0u);
}

TEST_F(Rfc8489VectorTest, AnyChangedByteOfB1Fails) {
    const auto original = from_hex(stun::testing::request_b1_corrected);
    for (std::size_t i = stun::header_size; i < original.size(); ++i) {
        // From a source of its own each time: past the per-source rate, or banned for the
        // wrong passwords of the bytes before, a source would get no answer at all.
        client_.ip = IpAddress::v4(0xC6336400u + static_cast<std::uint32_t>(i));
        auto damaged = original;
        damaged[i] ^= std::byte{0x01};
        const auto message = stun::MessageView::parse(damaged);
        if (!message) {
            continue;  // a length or type that no longer parses
        }
        const auto outcome = server_.handle_stun(*message, tuple(), now_, &link_);
        const Answer answer{{outcome.response.begin(), outcome.response.end()}};
        EXPECT_FALSE(answer.is_success() &&
                     stun::verify_message_integrity_sha256(answer.message(), vector_key()))
            << "byte " << i;
        EXPECT_FALSE(answer.bytes.empty()) << "byte " << i;
    }
}

TEST_F(Rfc8489VectorTest, B1FailsWithoutItsUserOrItsNonce) {
    const auto request = from_hex(stun::testing::request_b1_corrected);
    authenticator_.userhash_candidates = {"someone else"};
    EXPECT_EQ(send(request).error_code(), 401);
    EXPECT_EQ(server_.counters().auth_failure_unknown_userhash, 1u);

    authenticator_.userhash_candidates = {stun::testing::username_2_4};
    authenticator_.only_valid_nonce = "obMatJos2AAACanother";
    EXPECT_EQ(send(request).error_code(), 438);

    authenticator_.only_valid_nonce = stun::testing::nonce_b1;
    authenticator_.password = "TheMatrix";
    EXPECT_EQ(send(request).error_code(), 401);
    EXPECT_EQ(server_.counters().auth_failure_bad_integrity, 1u);
}

TEST_F(Rfc8489VectorTest, B1AsPrintedIsNoMessage) {
    EXPECT_FALSE(stun::MessageView::parse(from_hex(stun::testing::request_b1_as_printed)));
}

}  // namespace
}  // namespace hearth::turn::testing
