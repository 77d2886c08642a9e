// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256, FINGERPRINT and the long-term keys
// (RFC 8489 §9.2.2, §14.4-§14.7).

#include "relay/stun/integrity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "byte_helpers.h"
#include "relay/stun/message_builder.h"

namespace hearth::stun {
namespace {

using testing::from_hex;
using testing::test_transaction_id;
using testing::text;
using testing::to_hex;

TEST(Hmac, MatchesPublishedTestCases) {
    // RFC 2202 §3 test case 2 and RFC 4231 §4.3 test case 2.
    EXPECT_EQ(to_hex(hmac_sha1(text("Jefe"), text("what do ya want for nothing?"))),
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    EXPECT_EQ(to_hex(hmac_sha256(text("Jefe"), text("what do ya want for nothing?"))),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Fingerprint, IsCrc32XorStun) {
    // CRC-32 check value of "123456789" is 0xCBF43926; RFC 8489 §14.7 XORs 0x5354554e.
    EXPECT_EQ(fingerprint_value(text("123456789")), 0xCBF43926u ^ 0x5354554Eu);
    EXPECT_EQ(fingerprint_value({}), 0x5354554Eu);
}

TEST(LongTermKeys, MatchTheVectorTable) {
    // shared/reference/rfc5769-vectors.md, "Keys used".
    const std::string username =
        "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
    EXPECT_EQ(to_hex(long_term_key_md5(username, "example.org", "TheMatrIX")),
              "e8ca7ad59d5eb0518e312911d2dab2a9");
    EXPECT_EQ(to_hex(long_term_key_sha256(username, "example.org", "TheMatrIX")),
              "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
    EXPECT_EQ(to_hex(userhash(username, "example.org")),
              "4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
}

// A request whose integrity attribute the test writes itself.
struct Draft {
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder{buffer, Method::refresh, MessageClass::request, test_transaction_id};
    Draft() { builder.add_string(attribute::username, "user"); }
};

TEST(Verify, FailsWhenTheAttributeIsAbsent) {
    Draft draft;
    const auto parsed = MessageView::parse(draft.builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_FALSE(verify_message_integrity(*parsed, text("k")));
    EXPECT_FALSE(verify_message_integrity_sha256(*parsed, text("k")));
    EXPECT_FALSE(verify_fingerprint(*parsed));
}

TEST(Verify, FailsWithTheWrongKey) {
    Draft draft;
    draft.builder.add_message_integrity(text("right"));
    draft.builder.add_message_integrity_sha256(text("right"));
    const auto parsed = MessageView::parse(draft.builder.finish());
    EXPECT_TRUE(verify_message_integrity(*parsed, text("right")));
    EXPECT_TRUE(verify_message_integrity_sha256(*parsed, text("right")));
    EXPECT_FALSE(verify_message_integrity(*parsed, text("wrong")));
    EXPECT_FALSE(verify_message_integrity_sha256(*parsed, text("wrong")));
    EXPECT_FALSE(verify_message_integrity(*parsed, {}));
}

TEST(Verify, WorksWithAnEmptyKey) {
    Draft draft;
    draft.builder.add_message_integrity({});
    const auto parsed = MessageView::parse(draft.builder.finish());
    EXPECT_TRUE(verify_message_integrity(*parsed, {}));
    EXPECT_FALSE(verify_message_integrity(*parsed, text("k")));
}

TEST(Verify, AllZeroIntegrityIsNotAccepted) {
    Draft draft;
    draft.builder.add(attribute::message_integrity, std::array<std::byte, 20>{});
    const auto parsed = MessageView::parse(draft.builder.finish());
    EXPECT_FALSE(verify_message_integrity(*parsed, {}));
}

// Writes MESSAGE-INTEGRITY-SHA256 truncated to `length` bytes (RFC 8489 §14.6). The builder
// has already set the header length to end at the attribute, as the HMAC requires.
std::vector<std::byte> with_truncated_sha256(std::size_t length, Bytes key) {
    Draft draft;
    const std::size_t covered = draft.builder.size();
    draft.builder.add(attribute::message_integrity_sha256, std::vector<std::byte>(length));
    const auto mac = hmac_sha256(key, Bytes(draft.buffer.data(), covered));
    std::copy_n(mac.begin(), std::min(length, mac.size()), draft.buffer.begin() + covered + 4);
    const auto built = draft.builder.finish();
    return {built.begin(), built.end()};
}

TEST(Verify, AcceptsSha256TruncatedTo16BytesOrMoreInStepsOfFour) {
    const auto key = text("key");
    for (const std::size_t length : {16u, 20u, 24u, 28u, 32u}) {
        const auto message = with_truncated_sha256(length, key);
        const auto parsed = MessageView::parse(message);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_TRUE(verify_message_integrity_sha256(*parsed, key)) << length;
    }
    for (const std::size_t length : {0u, 4u, 12u, 18u, 31u, 36u}) {
        const auto message = with_truncated_sha256(length, key);
        const auto parsed = MessageView::parse(message);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_FALSE(verify_message_integrity_sha256(*parsed, key)) << length;
    }
}

TEST(Verify, Sha1IntegrityMustBeTwentyBytes) {
    Draft draft;
    draft.builder.add(attribute::message_integrity, std::array<std::byte, 16>{});
    const auto parsed = MessageView::parse(draft.builder.finish());
    EXPECT_FALSE(verify_message_integrity(*parsed, text("k")));
}

TEST(Verify, FingerprintMustBeFourBytesAndMatch) {
    Draft wrong_size;
    wrong_size.builder.add(attribute::fingerprint, std::array<std::byte, 8>{});
    EXPECT_FALSE(verify_fingerprint(*MessageView::parse(wrong_size.builder.finish())));

    Draft flipped;
    flipped.builder.add_fingerprint();
    const auto size = flipped.builder.size();
    flipped.buffer[size - 1] ^= std::byte{0x01};
    EXPECT_FALSE(verify_fingerprint(*MessageView::parse(flipped.builder.finish())));
}

TEST(Verify, IntegrityIgnoresAttributesAfterIt) {
    // RFC 8489 §14.5: the length is rewritten to end at MESSAGE-INTEGRITY, so a FINGERPRINT
    // (or MESSAGE-INTEGRITY-SHA256) added later does not change what it covers.
    Draft draft;
    draft.builder.add_message_integrity(text("k"));
    draft.builder.add_message_integrity_sha256(text("k"));
    draft.builder.add_fingerprint();
    const auto message = draft.builder.finish();
    const auto parsed = MessageView::parse(message);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(verify_message_integrity(*parsed, text("k")));
    EXPECT_TRUE(verify_message_integrity_sha256(*parsed, text("k")));
    EXPECT_TRUE(verify_fingerprint(*parsed));
}

TEST(Verify, LeavesTheMessageBytesUntouched) {
    Draft draft;
    draft.builder.add_message_integrity(text("k"));
    draft.builder.add_fingerprint();
    const auto message = draft.builder.finish();
    const std::vector<std::byte> before(message.begin(), message.end());
    const auto parsed = MessageView::parse(message);
    verify_message_integrity(*parsed, text("k"));
    verify_fingerprint(*parsed);
    EXPECT_EQ(to_hex(message), to_hex(before));
}

TEST(IntegrityKey, ItsAlgorithmFixesItsLength) {
    const auto md5 = long_term_key(PasswordAlgorithm::md5, IntegrityAttribute::message_integrity,
                                   "user", "realm", "pass");
    EXPECT_EQ(md5.algorithm(), PasswordAlgorithm::md5);
    EXPECT_EQ(to_hex(md5.bytes()), to_hex(long_term_key_md5("user", "realm", "pass")));
    const auto sha256 =
        long_term_key(PasswordAlgorithm::sha256, IntegrityAttribute::message_integrity_sha256,
                      "user", "realm", "pass");
    EXPECT_EQ(sha256.algorithm(), PasswordAlgorithm::sha256);
    EXPECT_EQ(to_hex(sha256.bytes()), to_hex(long_term_key_sha256("user", "realm", "pass")));
    EXPECT_EQ(IntegrityKey().bytes().size(), 16u);
}

TEST(IntegrityKey, TheBuilderSignsWithTheKeysAttribute) {
    for (const auto attribute :
         {IntegrityAttribute::message_integrity, IntegrityAttribute::message_integrity_sha256}) {
        const auto key = long_term_key(PasswordAlgorithm::sha256, attribute, "u", "r", "p");
        Draft draft;
        draft.builder.add_integrity(key);
        const auto parsed = MessageView::parse(draft.builder.finish());
        ASSERT_TRUE(parsed.has_value());
        const bool sha256 = attribute == IntegrityAttribute::message_integrity_sha256;
        EXPECT_EQ(parsed->has(attribute::message_integrity_sha256), sha256);
        EXPECT_EQ(parsed->has(attribute::message_integrity), !sha256);
        EXPECT_TRUE(verify_request_integrity(*parsed, key.bytes()));
    }
}

// RFC 8489 §9.2.4 and §14.6: every integrity attribute a request carries must verify.
TEST(VerifyRequestIntegrity, NeedsOneAttributeAndEveryOneCarriedToVerify) {
    const auto check = [](auto sign) {
        Draft draft;
        sign(draft.builder);
        draft.builder.add_fingerprint();
        return verify_request_integrity(*MessageView::parse(draft.builder.finish()), text("k"));
    };
    EXPECT_FALSE(check([](MessageBuilder&) {}));
    EXPECT_TRUE(check([](MessageBuilder& b) { b.add_message_integrity(text("k")); }));
    EXPECT_TRUE(check([](MessageBuilder& b) { b.add_message_integrity_sha256(text("k")); }));
    EXPECT_TRUE(check([](MessageBuilder& b) {
        b.add_message_integrity(text("k"));
        b.add_message_integrity_sha256(text("k"));
    }));
    EXPECT_FALSE(check([](MessageBuilder& b) {
        b.add_message_integrity(text("other"));
        b.add_message_integrity_sha256(text("k"));
    }));
    EXPECT_FALSE(check([](MessageBuilder& b) {
        b.add_message_integrity(text("k"));
        b.add_message_integrity_sha256(text("other"));
    }));
}

}  // namespace
}  // namespace hearth::stun
