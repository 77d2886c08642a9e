// Strict validation of the STUN header and attribute walk (RFC 8489 §5, §14), ChannelData
// bounds (RFC 8656 §12.4) and stream framing (§12.5).

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "relay/stun/attributes.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message_builder.h"
#include "relay/stun/stream_framing.h"

namespace hearth::stun {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (const int value : values) {
        out.push_back(static_cast<std::byte>(value));
    }
    return out;
}

// A Binding request header with `length` and then `body`.
std::vector<std::byte> message(int length, std::initializer_list<int> body) {
    auto out = bytes(
        {0x00, 0x01, length >> 8, length & 0xFF, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9,
         10,   11,   12});
    for (const int value : body) {
        out.push_back(static_cast<std::byte>(value));
    }
    return out;
}

TEST(MessageView, RejectsMalformedMessages) {
    struct Case {
        const char* name;
        std::vector<std::byte> input;
        ParseError expected;
    };
    auto wrong_cookie = message(0, {});
    wrong_cookie[4] = std::byte{0x22};
    auto top_bits = message(0, {});
    top_bits[0] = std::byte{0x80};
    const std::vector<Case> cases = {
        {"too short", bytes({0, 1, 0, 0}), ParseError::too_short},
        {"wrong cookie", wrong_cookie, ParseError::not_stun},
        {"top bits set", top_bits, ParseError::not_stun},
        {"length not a multiple of 4", message(2, {0, 0}), ParseError::bad_length},
        {"length past the end", message(8, {0, 0x06, 0, 1}), ParseError::bad_length},
        {"attribute past the end", message(8, {0, 0x06, 0, 8, 'a', 'b', 'c', 'd'}),
         ParseError::truncated_attribute},
        {"padding past the end", message(8, {0, 0x06, 0, 5, 'a', 'b', 'c', 'd'}),
         ParseError::truncated_attribute},
        {"attribute after MESSAGE-INTEGRITY",
         message(32, {0, 0x08, 0, 20, 0, 0, 0, 0, 0, 0,    0, 0, 0,   0,   0,   0,
                      0, 0,    0, 0,  0, 0, 0, 0, 0, 0x06, 0, 4, 'a', 'b', 'c', 'd'}),
         ParseError::attribute_after_integrity},
        {"attribute after FINGERPRINT",
         message(16, {0x80, 0x28, 0, 4, 0, 0, 0, 0, 0, 0x06, 0, 4, 'a', 'b', 'c', 'd'}),
         ParseError::attribute_after_fingerprint},
    };
    for (const auto& test : cases) {
        const auto parsed = MessageView::parse(test.input);
        ASSERT_FALSE(parsed.has_value()) << test.name;
        EXPECT_EQ(parsed.error(), test.expected) << test.name;
    }
}

TEST(MessageView, RejectsOversizedAndOvercrowdedMessages) {
    std::vector<std::byte> huge(max_message_size + 4);
    EXPECT_EQ(MessageView::parse(huge).error(), ParseError::too_long);

    std::array<std::byte, 1024> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, TransactionId{});
    for (std::size_t i = 0; i <= max_attributes; ++i) {
        builder.add_u32(attribute::priority, 1);
    }
    EXPECT_EQ(MessageView::parse(builder.finish()).error(), ParseError::too_many_attributes);
}

TEST(MessageView, ListsUnknownComprehensionRequiredAttributes) {
    const auto input =
        message(16, {0x7F, 0x01, 0, 0, 0xC0, 0x01, 0, 0, 0x00, 0x2F, 0, 4, 1, 2, 3, 4});
    const auto parsed = MessageView::parse(input);
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->unknown_comprehension_required().size(), 2u);  // 0xC001 is optional
    EXPECT_EQ(parsed->unknown_comprehension_required()[0], 0x7F01);
    EXPECT_EQ(parsed->unknown_comprehension_required()[1], 0x002F);
}

TEST(MessageView, IntegrityMayBeFollowedOnlyBySha256AndFingerprint) {
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::request, TransactionId{});
    builder.add_string(attribute::username, "u");
    builder.add_message_integrity(std::array<std::byte, 16>{});
    builder.add_message_integrity_sha256(std::array<std::byte, 16>{});
    builder.add_fingerprint();
    const auto parsed = MessageView::parse(builder.finish());
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(verify_message_integrity(*parsed, std::array<std::byte, 16>{}));
    EXPECT_TRUE(verify_message_integrity_sha256(*parsed, std::array<std::byte, 16>{}));
    EXPECT_TRUE(verify_fingerprint(*parsed));
}

TEST(MessageType, EncodesEveryMethodAndClass) {
    for (const auto method :
         {Method::binding, Method::allocate, Method::refresh, Method::send, Method::data,
          Method::create_permission, Method::channel_bind, Method::connect, Method::connection_bind,
          Method::connection_attempt}) {
        for (const auto message_class :
             {MessageClass::request, MessageClass::indication, MessageClass::success_response,
              MessageClass::error_response}) {
            Method decoded_method;
            MessageClass decoded_class;
            decode_message_type(encode_message_type(method, message_class), decoded_method,
                                decoded_class);
            EXPECT_EQ(decoded_method, method);
            EXPECT_EQ(decoded_class, message_class);
        }
    }
    EXPECT_EQ(encode_message_type(Method::allocate, MessageClass::error_response), 0x0113);
    EXPECT_EQ(encode_message_type(Method::data, MessageClass::indication), 0x0017);
}

TEST(MessageBuilder, OverflowGivesAnEmptyMessage) {
    std::array<std::byte, 24> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, TransactionId{});
    builder.add_string(attribute::software, "far too long for the buffer");
    EXPECT_TRUE(builder.overflowed());
    EXPECT_TRUE(builder.finish().empty());
}

TEST(MessageBuilder, ErrorCodeRoundTrips) {
    std::array<std::byte, 128> buffer{};
    MessageBuilder builder(buffer, Method::allocate, MessageClass::error_response, TransactionId{});
    builder.add_error_code(438, "Stale Nonce");
    const auto parsed = MessageView::parse(builder.finish());
    const auto error = decode_error_code(*parsed->find(attribute::error_code));
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code, 438);
    EXPECT_EQ(error->reason, "Stale Nonce");
}

TEST(Attributes, RejectWrongSizes) {
    EXPECT_FALSE(decode_u32(bytes({0, 0, 1})).has_value());
    EXPECT_FALSE(decode_xor_address(bytes({0, 1, 0, 0, 0, 0, 0}), TransactionId{}).has_value());
    EXPECT_FALSE(decode_xor_address(bytes({0, 3, 0, 0, 0, 0, 0, 0}), TransactionId{}).has_value());
    EXPECT_FALSE(decode_address_family(bytes({3, 0, 0, 0})).has_value());
    EXPECT_FALSE(decode_error_code(bytes({0, 0, 7, 0})).has_value());
    const std::vector<std::byte> long_username(513, std::byte{'a'});
    EXPECT_FALSE(decode_username(long_username).has_value());
}

TEST(ChannelData, ParsesAndBoundsChecks) {
    const auto good = bytes({0x40, 0x00, 0x00, 0x02, 'h', 'i', 0, 0});
    const auto parsed = parse_channel_data(good);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->channel_number, 0x4000);
    EXPECT_EQ(parsed->payload.size(), 2u);
    EXPECT_FALSE(parse_channel_data(bytes({0x40, 0x00, 0x00, 0x09, 'h', 'i'})).has_value());
    EXPECT_FALSE(parse_channel_data(bytes({0x3F, 0xFF, 0x00, 0x00})).has_value());
    EXPECT_FALSE(parse_channel_data(bytes({0x40, 0x00, 0x00})).has_value());
    EXPECT_TRUE(looks_like_channel_data(good));
    EXPECT_FALSE(looks_like_channel_data(message(0, {})));
}

TEST(StreamFraming, FramesStunAndPaddedChannelData) {
    const auto stun = message(8, {0, 0x06, 0, 4, 'a', 'b', 'c', 'd'});
    const auto frame = std::get<Frame>(next_frame(stun));
    EXPECT_EQ(frame.kind, FrameKind::stun);
    EXPECT_EQ(frame.size, 28u);

    const auto channel = std::get<Frame>(next_frame(bytes({0x40, 0x01, 0x00, 0x05})));
    EXPECT_EQ(channel.kind, FrameKind::channel_data);
    EXPECT_EQ(channel.message_size, 9u);
    EXPECT_EQ(channel.size, 12u);  // padded to four bytes on a stream

    EXPECT_TRUE(std::holds_alternative<NeedMoreBytes>(next_frame(bytes({0x00, 0x01}))));
    EXPECT_TRUE(std::holds_alternative<FramingError>(next_frame(bytes({0x80, 0, 0, 0}))));
    EXPECT_TRUE(std::holds_alternative<FramingError>(next_frame(bytes({0x00, 0x01, 0xFF, 0xFC}))));
}

}  // namespace
}  // namespace hearth::stun
