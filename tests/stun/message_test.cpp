// Strict validation of the STUN header and attribute walk (RFC 8489 §5, §6, §14).

#include "relay/stun/message.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "byte_helpers.h"

namespace hearth::stun {
namespace {

using testing::append;
using testing::attribute_bytes;
using testing::bytes;
using testing::message_bytes;
using testing::message_with;
using testing::test_transaction_id;

std::vector<std::byte> zeros(std::size_t count) {
    return std::vector<std::byte>(count, std::byte{0});
}

std::vector<std::byte> username_attribute() {
    return attribute_bytes(attribute::username, bytes({'a', 'b', 'c', 'd'}));
}
std::vector<std::byte> integrity_attribute() {
    return attribute_bytes(attribute::message_integrity, zeros(20));
}
std::vector<std::byte> integrity_sha256_attribute() {
    return attribute_bytes(attribute::message_integrity_sha256, zeros(32));
}
std::vector<std::byte> fingerprint_attribute() {
    return attribute_bytes(attribute::fingerprint, zeros(4));
}

struct MalformedCase {
    std::string name;
    std::vector<std::byte> input;
    ParseError expected;
};

std::vector<MalformedCase> malformed_cases() {
    auto wrong_cookie = message_with({});
    wrong_cookie[7] = std::byte{0x43};
    auto first_bit_set = message_with({});
    first_bit_set[0] = std::byte{0x80};
    auto second_bit_set = message_with({});
    second_bit_set[0] = std::byte{0x40};

    std::vector<std::byte> too_many;
    for (std::size_t i = 0; i <= max_attributes; ++i) {
        append(too_many, attribute_bytes(attribute::priority, zeros(4)));
    }
    const auto oversized = message_with({attribute_bytes(attribute::data, zeros(4076))});

    // A value that ends inside the message but whose padding does not.
    auto padding_outside = message_bytes(8, attribute_bytes(attribute::username, zeros(4)));
    padding_outside[header_size + 3] = std::byte{5};

    return {
        {"empty", {}, ParseError::too_short},
        {"19 bytes", zeros(19), ParseError::too_short},
        {"over max_message_size", oversized, ParseError::too_long},
        {"wrong magic cookie", wrong_cookie, ParseError::not_stun},
        {"first bit set", first_bit_set, ParseError::not_stun},
        {"second bit set (ChannelData)", second_bit_set, ParseError::not_stun},
        {"length not a multiple of 4", message_bytes(2, zeros(2)), ParseError::bad_length},
        {"length past the datagram", message_bytes(12, username_attribute()),
         ParseError::bad_length},
        {"length short of the datagram", message_bytes(0, username_attribute()),
         ParseError::bad_length},
        {"datagram not a multiple of 4", message_bytes(4, zeros(5)), ParseError::bad_length},
        {"attribute value past the end",
         message_bytes(8, bytes({0x00, 0x06, 0x00, 0x08, 'a', 'b', 'c', 'd'})),
         ParseError::truncated_attribute},
        {"attribute padding past the end", padding_outside, ParseError::truncated_attribute},
        {"too many attributes", message_bytes(too_many.size(), too_many),
         ParseError::too_many_attributes},
        {"attribute after MESSAGE-INTEGRITY",
         message_with({integrity_attribute(), username_attribute()}),
         ParseError::attribute_after_integrity},
        {"MESSAGE-INTEGRITY twice", message_with({integrity_attribute(), integrity_attribute()}),
         ParseError::attribute_after_integrity},
        {"MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256",
         message_with({integrity_sha256_attribute(), integrity_attribute()}),
         ParseError::attribute_after_integrity},
        {"MESSAGE-INTEGRITY-SHA256 twice",
         message_with({integrity_sha256_attribute(), integrity_sha256_attribute()}),
         ParseError::attribute_after_integrity},
        {"attribute after MESSAGE-INTEGRITY-SHA256",
         message_with({integrity_sha256_attribute(), username_attribute()}),
         ParseError::attribute_after_integrity},
        {"attribute after FINGERPRINT",
         message_with({fingerprint_attribute(), username_attribute()}),
         ParseError::attribute_after_fingerprint},
        {"FINGERPRINT twice", message_with({fingerprint_attribute(), fingerprint_attribute()}),
         ParseError::attribute_after_fingerprint},
        {"MESSAGE-INTEGRITY after FINGERPRINT",
         message_with({fingerprint_attribute(), integrity_attribute()}),
         ParseError::attribute_after_fingerprint},
    };
}

TEST(MessageView, RejectsEveryKindOfMalformedMessage) {
    std::set<ParseError> covered;
    for (const auto& test : malformed_cases()) {
        const auto parsed = MessageView::parse(test.input);
        ASSERT_FALSE(parsed.has_value()) << test.name;
        EXPECT_EQ(parsed.error(), test.expected)
            << test.name << ": got " << to_string(parsed.error());
        covered.insert(test.expected);
    }
    EXPECT_EQ(covered.size(), 8u) << "every ParseError has a case";
}

TEST(MessageView, AcceptsTheOrderingsRfc8489Allows) {
    // RFC 8489 §14.5-§14.7: MI, then optionally MI-SHA256, then optionally FINGERPRINT.
    const std::vector<std::vector<std::vector<std::byte>>> orderings = {
        {integrity_attribute()},
        {integrity_sha256_attribute()},
        {fingerprint_attribute()},
        {integrity_attribute(), fingerprint_attribute()},
        {integrity_sha256_attribute(), fingerprint_attribute()},
        {integrity_attribute(), integrity_sha256_attribute()},
        {integrity_attribute(), integrity_sha256_attribute(), fingerprint_attribute()},
    };
    for (std::size_t i = 0; i < orderings.size(); ++i) {
        std::vector<std::byte> body = username_attribute();
        for (const auto& attribute : orderings[i]) {
            append(body, attribute);
        }
        const auto parsed = MessageView::parse(message_bytes(body.size(), body));
        ASSERT_TRUE(parsed.has_value()) << "ordering " << i << ": " << to_string(parsed.error());
        EXPECT_EQ(parsed->attributes().size(), orderings[i].size() + 1);
    }
}

TEST(MessageView, AcceptsTheBoundsThemselves) {
    const auto largest = message_with({attribute_bytes(attribute::data, zeros(4072))});
    ASSERT_EQ(largest.size(), max_message_size);
    EXPECT_TRUE(MessageView::parse(largest).has_value());

    std::vector<std::byte> body;
    for (std::size_t i = 0; i < max_attributes; ++i) {
        append(body, attribute_bytes(attribute::priority, zeros(4)));
    }
    const auto crowded = MessageView::parse(message_bytes(body.size(), body));
    ASSERT_TRUE(crowded.has_value());
    EXPECT_EQ(crowded->attributes().size(), max_attributes);

    EXPECT_TRUE(MessageView::parse(message_with({})).has_value());
}

TEST(MessageView, ReadsTheHeader) {
    auto input = message_with({username_attribute()});
    input[0] = std::byte{0x01};  // Allocate error response: 0x0113
    input[1] = std::byte{0x13};
    const auto parsed = MessageView::parse(input);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->method(), Method::allocate);
    EXPECT_EQ(parsed->message_class(), MessageClass::error_response);
    EXPECT_EQ(parsed->transaction_id(), test_transaction_id);
    EXPECT_EQ(parsed->bytes().data(), input.data()) << "a view, not a copy";
    EXPECT_EQ(parsed->bytes().size(), input.size());
}

TEST(MessageView, IgnoresPaddingContentAndKeepsItOutOfValues) {
    const auto input =
        message_with({attribute_bytes(attribute::realm, bytes({'o', 'r', 'g'}), 0xFF),
                      attribute_bytes(attribute::priority, bytes({0, 0, 0, 7}))});
    const auto parsed = MessageView::parse(input);
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->attributes().size(), 2u);
    EXPECT_EQ(parsed->find(attribute::realm)->size(), 3u);
    EXPECT_EQ(parsed->attributes()[1].offset, header_size + 8);
}

TEST(MessageView, FindReturnsTheFirstOfDuplicates) {
    // RFC 8489 §14: only the first occurrence of an attribute is processed.
    const auto input = message_with({attribute_bytes(attribute::lifetime, bytes({0, 0, 0, 1})),
                                     attribute_bytes(attribute::lifetime, bytes({0, 0, 0, 2}))});
    const auto parsed = MessageView::parse(input);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(std::to_integer<int>((*parsed->find(attribute::lifetime))[3]), 1);
    EXPECT_TRUE(parsed->has(attribute::lifetime));
    EXPECT_FALSE(parsed->has(attribute::nonce));
    EXPECT_FALSE(parsed->find(attribute::nonce).has_value());
}

TEST(MessageView, ReportsWhereIntegrityAndFingerprintSit) {
    const auto input = message_with({username_attribute(), integrity_attribute(),
                                     integrity_sha256_attribute(), fingerprint_attribute()});
    const auto parsed = MessageView::parse(input);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->message_integrity_offset(), 28u);
    EXPECT_EQ(parsed->message_integrity_sha256_offset(), 52u);
    EXPECT_EQ(parsed->fingerprint_offset(), 88u);

    const auto bare = MessageView::parse(message_with({username_attribute()}));
    EXPECT_FALSE(bare->message_integrity_offset().has_value());
    EXPECT_FALSE(bare->message_integrity_sha256_offset().has_value());
    EXPECT_FALSE(bare->fingerprint_offset().has_value());
}

TEST(MessageView, ListsUnknownComprehensionRequiredAttributes) {
    const auto input = message_with({
        attribute_bytes(0x7F01, {}),
        attribute_bytes(0xC001, {}),  // comprehension-optional: ignored silently
        attribute_bytes(attribute::username, bytes({'u'})),
        attribute_bytes(0x002F, bytes({1, 2, 3, 4})),
    });
    const auto parsed = MessageView::parse(input);
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->unknown_comprehension_required().size(), 2u);
    EXPECT_EQ(parsed->unknown_comprehension_required()[0], 0x7F01);
    EXPECT_EQ(parsed->unknown_comprehension_required()[1], 0x002F);
    EXPECT_EQ(parsed->attributes().size(), 4u);
}

TEST(MessageView, KeepsTheFirstEightUnknownAttributes) {
    std::vector<std::byte> body;
    for (int i = 0; i < 10; ++i) {
        append(body, attribute_bytes(static_cast<std::uint16_t>(0x7000 + i), {}));
    }
    const auto parsed = MessageView::parse(message_bytes(body.size(), body));
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->unknown_comprehension_required().size(), 8u);
    EXPECT_EQ(parsed->unknown_comprehension_required()[7], 0x7007);
    EXPECT_EQ(parsed->attributes().size(), 10u);
}

TEST(Attribute, KnowsItsTypes) {
    EXPECT_TRUE(attribute::is_known(attribute::xor_relayed_address));
    EXPECT_TRUE(attribute::is_known(attribute::connection_id));
    EXPECT_TRUE(attribute::is_known(attribute::fingerprint));
    EXPECT_FALSE(attribute::is_known(0x0000));
    EXPECT_FALSE(attribute::is_known(0x7F01));
    EXPECT_TRUE(attribute::is_comprehension_required(attribute::username));
    EXPECT_TRUE(attribute::is_comprehension_required(0x7FFF));
    EXPECT_FALSE(attribute::is_comprehension_required(attribute::software));
}

TEST(MessageType, RoundTripsEveryMethodAndClass) {
    for (const auto method :
         {Method::binding, Method::allocate, Method::refresh, Method::send, Method::data,
          Method::create_permission, Method::channel_bind, Method::connect, Method::connection_bind,
          Method::connection_attempt, static_cast<Method>(0xFFF)}) {
        for (const auto message_class :
             {MessageClass::request, MessageClass::indication, MessageClass::success_response,
              MessageClass::error_response}) {
            const auto type = encode_message_type(method, message_class);
            EXPECT_EQ(type & 0xC000, 0) << "top two bits stay zero";
            Method decoded_method;
            MessageClass decoded_class;
            decode_message_type(type, decoded_method, decoded_class);
            EXPECT_EQ(decoded_method, method);
            EXPECT_EQ(decoded_class, message_class);
        }
    }
}

TEST(MessageType, MatchesTheRfcEncodings) {
    struct Case {
        Method method;
        MessageClass message_class;
        std::uint16_t type;
    };
    // RFC 8489 §5 and §6, RFC 8656 §18, RFC 6062 §6.1.
    const Case cases[] = {
        {Method::binding, MessageClass::request, 0x0001},
        {Method::binding, MessageClass::indication, 0x0011},
        {Method::binding, MessageClass::success_response, 0x0101},
        {Method::binding, MessageClass::error_response, 0x0111},
        {Method::allocate, MessageClass::error_response, 0x0113},
        {Method::send, MessageClass::indication, 0x0016},
        {Method::data, MessageClass::indication, 0x0017},
        {Method::channel_bind, MessageClass::success_response, 0x0109},
        {Method::connection_attempt, MessageClass::indication, 0x001C},
        {static_cast<Method>(0xFFF), MessageClass::error_response, 0x3FFF},
    };
    for (const auto& test : cases) {
        EXPECT_EQ(encode_message_type(test.method, test.message_class), test.type);
    }
}

TEST(LooksLikeStun, ChecksFirstBitsAndCookie) {
    const auto request = message_with({});
    EXPECT_TRUE(looks_like_stun(request));
    EXPECT_FALSE(looks_like_stun(Bytes(request).first(19)));
    auto channel_data = request;
    channel_data[0] = std::byte{0x40};
    EXPECT_FALSE(looks_like_stun(channel_data));
    auto wrong_cookie = request;
    wrong_cookie[4] = std::byte{0x00};
    EXPECT_FALSE(looks_like_stun(wrong_cookie));
}

TEST(ParseError, EveryErrorHasItsOwnText) {
    std::set<std::string> texts;
    for (int error = 0; error <= static_cast<int>(ParseError::attribute_after_fingerprint);
         ++error) {
        texts.insert(to_string(static_cast<ParseError>(error)));
    }
    EXPECT_EQ(texts.size(), 8u);
}

}  // namespace
}  // namespace hearth::stun
