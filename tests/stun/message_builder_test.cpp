// Building STUN messages into caller buffers (RFC 8489 §5, §14), overflow without heap.

#include "relay/stun/message_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "byte_helpers.h"
#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"

namespace hearth::stun {
namespace {

using testing::test_transaction_id;
using testing::text;
using testing::to_hex;

std::uint16_t header_length(std::span<const std::byte> message) {
    return static_cast<std::uint16_t>(std::to_integer<int>(message[2]) << 8 |
                                      std::to_integer<int>(message[3]));
}

TEST(MessageBuilder, WritesTheHeader) {
    std::array<std::byte, 64> buffer{};
    MessageBuilder builder(buffer, Method::refresh, MessageClass::success_response,
                           test_transaction_id);
    const auto message = builder.finish();
    EXPECT_EQ(to_hex(message),
              "01040000"
              "2112a442"
              "0102030405060708090a0b0c");
}

TEST(MessageBuilder, KeepsTheLengthCurrentAndPadsWithZeros) {
    std::array<std::byte, 64> buffer;
    buffer.fill(std::byte{0xEE});
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
    builder.add_string(attribute::realm, "org");
    EXPECT_EQ(header_length(buffer), 8);
    EXPECT_EQ(builder.size(), 28u);
    EXPECT_EQ(to_hex(Bytes(buffer).subspan(20, 8)),
              "00140003"
              "6f726700");
    builder.add_u32(attribute::lifetime, 600);
    EXPECT_EQ(header_length(buffer), 16);
    EXPECT_EQ(to_hex(Bytes(buffer).subspan(28, 8)),
              "000d0004"
              "00000258");
    EXPECT_EQ(builder.finish().size(), 36u);
}

TEST(MessageBuilder, BuildsWhatTheParserReadsBack) {
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::request, test_transaction_id);
    builder.add_u32(attribute::requested_transport, 17u << 24);
    builder.add(attribute::dont_fragment, {});
    builder.add_string(attribute::username, "alice");
    const auto parsed = MessageView::parse(builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->method(), Method::allocate);
    EXPECT_EQ(parsed->message_class(), MessageClass::request);
    EXPECT_EQ(parsed->transaction_id(), test_transaction_id);
    EXPECT_EQ(decode_requested_transport(*parsed->find(attribute::requested_transport)), 17);
    EXPECT_TRUE(parsed->find(attribute::dont_fragment)->empty());
    EXPECT_EQ(decode_username(*parsed->find(attribute::username)), "alice");
}

TEST(MessageBuilder, XorAddressesUseTheMessageTransactionId) {
    const auto v4 = *TransportAddress::parse("203.0.113.9:3478");
    const auto v6 = *TransportAddress::parse("[2001:db8::7]:49152");
    std::array<std::byte, 128> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::success_response,
                           test_transaction_id);
    builder.add_xor_address(attribute::xor_relayed_address, v6);
    builder.add_xor_address(attribute::xor_mapped_address, v4);
    const auto parsed = MessageView::parse(builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->find(attribute::xor_relayed_address)->size(), 20u);
    EXPECT_EQ(
        decode_xor_address(*parsed->find(attribute::xor_relayed_address), test_transaction_id), v6);
    EXPECT_EQ(decode_xor_address(*parsed->find(attribute::xor_mapped_address), test_transaction_id),
              v4);
}

TEST(MessageBuilder, WritesErrorCodeClassAndNumber) {
    std::array<std::byte, 128> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::error_response,
                           test_transaction_id);
    builder.add_error_code(438, "Stale Nonce");
    const auto value = *MessageView::parse(builder.finish())->find(attribute::error_code);
    EXPECT_EQ(to_hex(value.first(4)), "00000426");  // RFC 8489 §14.8: class 4, number 38
    const auto error = decode_error_code(value);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code, 438);
    EXPECT_EQ(error->reason, "Stale Nonce");
}

TEST(MessageBuilder, CutsLongReasonPhrasesBetweenCharacters) {
    // RFC 8489 §14.8: fewer than 128 characters. 200 two-byte characters are cut to 127.
    std::string reason;
    for (int i = 0; i < 200; ++i) {
        reason += "\xc3\xa9";  // é
    }
    std::array<std::byte, 1024> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::error_response,
                           test_transaction_id);
    builder.add_error_code(400, reason);
    const auto error =
        decode_error_code(*MessageView::parse(builder.finish())->find(attribute::error_code));
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->reason, reason.substr(0, 254));
}

TEST(MessageBuilder, AcceptsEmptyValues) {
    std::array<std::byte, 64> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::error_response,
                           test_transaction_id);
    builder.add(attribute::dont_fragment, Bytes{});
    builder.add_string(attribute::software, std::string_view{});
    builder.add_error_code(500, std::string_view{});
    const auto parsed = MessageView::parse(builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(parsed->find(attribute::software)->empty());
    EXPECT_EQ(decode_error_code(*parsed->find(attribute::error_code))->reason, "");
}

TEST(MessageBuilder, WritesUnknownAttributes) {
    std::array<std::byte, 64> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::error_response,
                           test_transaction_id);
    const std::uint16_t unknown[] = {0x7F01, 0x002F, 0x0030};
    builder.add_unknown_attributes(unknown);
    const auto value = *MessageView::parse(builder.finish())->find(attribute::unknown_attributes);
    EXPECT_EQ(to_hex(value), "7f01002f0030");
}

TEST(MessageBuilder, IntegrityThenFingerprintVerify) {
    const auto key = text("secret");
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::refresh, MessageClass::request, test_transaction_id);
    builder.add_u32(attribute::lifetime, 0);
    builder.add_message_integrity(key);
    builder.add_fingerprint();
    const auto parsed = MessageView::parse(builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(verify_message_integrity(*parsed, key));
    EXPECT_TRUE(verify_fingerprint(*parsed));
    EXPECT_EQ(header_length(parsed->bytes()), parsed->bytes().size() - header_size);
}

TEST(MessageBuilder, BothIntegrityAttributesAndFingerprintVerify) {
    const auto key = text("secret");
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::request, test_transaction_id);
    builder.add_string(attribute::username, "u");
    builder.add_message_integrity(key);
    builder.add_message_integrity_sha256(key);
    builder.add_fingerprint();
    const auto parsed = MessageView::parse(builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(verify_message_integrity(*parsed, key));
    EXPECT_TRUE(verify_message_integrity_sha256(*parsed, key));
    EXPECT_TRUE(verify_fingerprint(*parsed));
}

TEST(MessageBuilder, BufferSmallerThanAHeaderOverflows) {
    std::array<std::byte, 19> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
    EXPECT_TRUE(builder.overflowed());
    builder.add_u32(attribute::lifetime, 1);
    builder.add_fingerprint();
    EXPECT_TRUE(builder.finish().empty());
}

TEST(MessageBuilder, HeaderOnlyFitsExactly) {
    std::array<std::byte, 20> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
    EXPECT_FALSE(builder.overflowed());
    EXPECT_EQ(builder.finish().size(), 20u);
}

TEST(MessageBuilder, AttributeThatDoesNotFitEmptiesTheMessage) {
    struct Case {
        const char* name;
        std::size_t buffer_size;
        void (*fill)(MessageBuilder&);
    };
    const Case cases[] = {
        {"string", 24, [](MessageBuilder& b) { b.add_string(attribute::software, "too long"); }},
        {"padding does not fit", 30,
         [](MessageBuilder& b) { b.add_string(attribute::realm, "abcde"); }},
        {"u32", 27, [](MessageBuilder& b) { b.add_u32(attribute::lifetime, 1); }},
        {"integrity", 40, [](MessageBuilder& b) { b.add_message_integrity(text("k")); }},
        {"integrity sha256", 52,
         [](MessageBuilder& b) { b.add_message_integrity_sha256(text("k")); }},
        {"fingerprint", 27, [](MessageBuilder& b) { b.add_fingerprint(); }},
        {"error code", 30, [](MessageBuilder& b) { b.add_error_code(401, "Unauthorized"); }},
        {"xor address", 31,
         [](MessageBuilder& b) {
             b.add_xor_address(attribute::xor_mapped_address,
                               *TransportAddress::parse("192.0.2.1:1"));
         }},
    };
    for (const auto& test : cases) {
        std::vector<std::byte> buffer(test.buffer_size);
        MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
        test.fill(builder);
        EXPECT_TRUE(builder.overflowed()) << test.name;
        EXPECT_TRUE(builder.finish().empty()) << test.name;
    }
}

TEST(MessageBuilder, StaysOverflowedWhenLaterAttributesWouldFit) {
    std::array<std::byte, 32> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
    builder.add_string(attribute::software, "a software name longer than the room left");
    builder.add_u32(attribute::lifetime, 1);
    EXPECT_TRUE(builder.overflowed());
    EXPECT_TRUE(builder.finish().empty());
}

TEST(MessageBuilder, ExactFitIsNotAnOverflow) {
    std::array<std::byte, 28> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
    builder.add_u32(attribute::lifetime, 1);
    EXPECT_FALSE(builder.overflowed());
    EXPECT_EQ(builder.finish().size(), 28u);
}

TEST(MessageBuilder, ValueLongerThanTheLengthFieldOverflows) {
    std::vector<std::byte> buffer(70000);
    const std::vector<std::byte> value(65536);
    MessageBuilder builder(buffer, Method::send, MessageClass::indication, test_transaction_id);
    builder.add(attribute::data, value);
    EXPECT_TRUE(builder.overflowed());
    EXPECT_TRUE(builder.finish().empty());
}

}  // namespace
}  // namespace hearth::stun
