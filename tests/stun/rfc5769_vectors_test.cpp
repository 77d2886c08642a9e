// RFC 5769 test vectors and RFC 8489 Appendix B.1 (as corrected by Erratum 6268), byte for
// byte, parsed and rebuilt.

#include "rfc5769_vectors.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "byte_helpers.h"
#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message_builder.h"

namespace hearth::stun {
namespace {

using testing::from_hex;
using testing::text;
using testing::to_hex;
using namespace testing;  // the vectors

TransactionId transaction_of(const std::vector<std::byte>& message) {
    TransactionId id;
    std::copy_n(message.begin() + 8, id.size(), id.begin());
    return id;
}

TEST(Rfc5769, SampleRequestParsesAndVerifies) {
    const auto bytes = from_hex(request_2_1);
    ASSERT_EQ(bytes.size(), 108u);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->method(), Method::binding);
    EXPECT_EQ(message->message_class(), MessageClass::request);
    EXPECT_EQ(decode_software(*message->find(attribute::software)), "STUN test client");
    EXPECT_EQ(decode_username(*message->find(attribute::username)), "evtj:h6vY");
    EXPECT_EQ(decode_u32(*message->find(attribute::priority)), 0x6e0001ffu);
    EXPECT_TRUE(message->unknown_comprehension_required().empty());
    EXPECT_TRUE(verify_message_integrity(*message, text(short_term_password)));
    EXPECT_TRUE(verify_fingerprint(*message));
    EXPECT_FALSE(verify_message_integrity(*message, text("wrong password")));
}

TEST(Rfc5769, Ipv4ResponseParsesAndVerifies) {
    const auto bytes = from_hex(response_2_2);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->message_class(), MessageClass::success_response);
    EXPECT_EQ(decode_software(*message->find(attribute::software)), "test vector");
    EXPECT_EQ(decode_xor_address(*message->find(attribute::xor_mapped_address),
                                 message->transaction_id()),
              TransportAddress::parse("192.0.2.1:32853"));
    EXPECT_TRUE(verify_message_integrity(*message, text(short_term_password)));
    EXPECT_TRUE(verify_fingerprint(*message));
}

TEST(Rfc5769, Ipv6ResponseParsesAndVerifies) {
    const auto bytes = from_hex(response_2_3);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(decode_xor_address(*message->find(attribute::xor_mapped_address),
                                 message->transaction_id()),
              TransportAddress::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
    EXPECT_TRUE(verify_message_integrity(*message, text(short_term_password)));
    EXPECT_TRUE(verify_fingerprint(*message));
}

TEST(Rfc5769, LongTermRequestParsesAndVerifies) {
    const auto bytes = from_hex(request_2_4);
    ASSERT_EQ(bytes.size(), 116u);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(decode_username(*message->find(attribute::username)), username_2_4);
    EXPECT_EQ(decode_nonce(*message->find(attribute::nonce)), nonce_2_4);
    EXPECT_EQ(decode_realm(*message->find(attribute::realm)), "example.org");
    const auto key = long_term_key_md5(username_2_4, "example.org", "TheMatrIX");
    EXPECT_EQ(to_hex(key), "e8ca7ad59d5eb0518e312911d2dab2a9");
    EXPECT_TRUE(verify_message_integrity(*message, key));
    EXPECT_FALSE(message->fingerprint_offset().has_value());
}

TEST(Rfc8489, CorrectedB1ParsesAndVerifies) {
    const auto bytes = from_hex(request_b1_corrected);
    ASSERT_EQ(bytes.size(), 164u);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    const auto hash = userhash(username_2_4, "example.org");
    EXPECT_EQ(to_hex(hash), "4a3cf38fef6992bda952c6780417da0f24819415569e60b205c46e41407f1704");
    EXPECT_EQ(to_hex(*message->find(attribute::userhash)), to_hex(hash));
    EXPECT_EQ(decode_nonce(*message->find(attribute::nonce)), nonce_b1);
    const auto key = long_term_key_sha256(username_2_4, "example.org", "TheMatrIX");
    EXPECT_EQ(to_hex(key), "dd295a613b9058c3c23d6dc7165bda072304d989c9d0af3a8c7e184b4f9bb4a1");
    EXPECT_TRUE(verify_message_integrity_sha256(*message, key));
}

TEST(Rfc8489, B1AsPrintedIsRejectedForItsLength) {
    const auto message = MessageView::parse(from_hex(request_b1_as_printed));
    ASSERT_FALSE(message.has_value());
    EXPECT_EQ(message.error(), ParseError::bad_length);
}

// Rebuilds a response of §2.2/§2.3; the vectors pad SOFTWARE with 0x20 where the builder
// pads with zeros, so the padding byte is substituted before integrity is added.
std::vector<std::byte> rebuild_response(const std::vector<std::byte>& original,
                                        const TransportAddress& mapped) {
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::success_response,
                           transaction_of(original));
    builder.add_string(attribute::software, "test vector");
    buffer[20 + 4 + 11] = std::byte{0x20};
    builder.add_xor_address(attribute::xor_mapped_address, mapped);
    builder.add_message_integrity(text(short_term_password));
    builder.add_fingerprint();
    const auto built = builder.finish();
    return {built.begin(), built.end()};
}

TEST(Rfc5769, ResponsesRebuildByteForByte) {
    const auto v4 = from_hex(response_2_2);
    EXPECT_EQ(to_hex(rebuild_response(v4, *TransportAddress::parse("192.0.2.1:32853"))),
              to_hex(v4));
    const auto v6 = from_hex(response_2_3);
    EXPECT_EQ(to_hex(rebuild_response(
                  v6, *TransportAddress::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"))),
              to_hex(v6));
}

TEST(Rfc5769, SampleRequestRebuildsByteForByte) {
    const auto original = from_hex(request_2_1);
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request,
                           transaction_of(original));
    builder.add_string(attribute::software, "STUN test client");
    builder.add_u32(attribute::priority, 0x6e0001ff);
    const auto controlled = from_hex("932ff9b151263b36");
    builder.add(attribute::ice_controlled, controlled);
    builder.add_string(attribute::username, "evtj:h6vY");
    for (std::size_t i = 0; i < 3; ++i) {
        buffer[builder.size() - 3 + i] = std::byte{0x20};
    }
    builder.add_message_integrity(text(short_term_password));
    builder.add_fingerprint();
    EXPECT_EQ(to_hex(builder.finish()), to_hex(original));
}

TEST(Rfc5769, LongTermRequestRebuildsByteForByte) {
    const auto original = from_hex(request_2_4);
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request,
                           transaction_of(original));
    builder.add_string(attribute::username, username_2_4);
    builder.add_string(attribute::nonce, nonce_2_4);
    builder.add_string(attribute::realm, "example.org");
    builder.add_message_integrity(long_term_key_md5(username_2_4, "example.org", "TheMatrIX"));
    EXPECT_EQ(to_hex(builder.finish()), to_hex(original));
}

TEST(Rfc8489, CorrectedB1RebuildsByteForByte) {
    const auto original = from_hex(request_b1_corrected);
    std::array<std::byte, 256> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request,
                           transaction_of(original));
    builder.add(attribute::userhash, userhash(username_2_4, "example.org"));
    builder.add_string(attribute::nonce, nonce_b1);
    builder.add_string(attribute::realm, "example.org");
    builder.add(attribute::password_algorithm, from_hex("00020000"));
    builder.add_message_integrity_sha256(
        long_term_key_sha256(username_2_4, "example.org", "TheMatrIX"));
    EXPECT_EQ(to_hex(builder.finish()), to_hex(original));
}

TEST(Rfc5769, EveryFlippedByteBreaksTheFingerprintOrTheParse) {
    for (const auto& vector : {request_2_1, response_2_2, response_2_3}) {
        const auto original = from_hex(vector);
        for (std::size_t i = 0; i < original.size(); ++i) {
            auto damaged = original;
            damaged[i] ^= std::byte{0x01};
            const auto message = MessageView::parse(damaged);
            EXPECT_FALSE(message.has_value() && verify_fingerprint(*message)) << "byte " << i;
        }
    }
}

TEST(Rfc5769, FlippedByteBreaksLongTermIntegrity) {
    const auto original = from_hex(request_2_4);
    const auto key = long_term_key_md5(username_2_4, "example.org", "TheMatrIX");
    for (std::size_t i = 0; i < original.size(); ++i) {
        auto damaged = original;
        damaged[i] ^= std::byte{0x01};
        const auto message = MessageView::parse(damaged);
        EXPECT_FALSE(message.has_value() && verify_message_integrity(*message, key))
            << "byte " << i;
    }
}

// The attribute walk of each vector: type and value length, in order.
struct Layout {
    const std::string* hex;
    std::vector<std::pair<std::uint16_t, std::size_t>> attributes;
};

TEST(Rfc5769, EveryVectorWalksToTheListedAttributes) {
    const Layout layouts[] = {
        {&request_2_1,
         {{attribute::software, 16},
          {attribute::priority, 4},
          {attribute::ice_controlled, 8},
          {attribute::username, 9},
          {attribute::message_integrity, 20},
          {attribute::fingerprint, 4}}},
        {&response_2_2,
         {{attribute::software, 11},
          {attribute::xor_mapped_address, 8},
          {attribute::message_integrity, 20},
          {attribute::fingerprint, 4}}},
        {&response_2_3,
         {{attribute::software, 11},
          {attribute::xor_mapped_address, 20},
          {attribute::message_integrity, 20},
          {attribute::fingerprint, 4}}},
        {&request_2_4,
         {{attribute::username, 18},
          {attribute::nonce, 28},
          {attribute::realm, 11},
          {attribute::message_integrity, 20}}},
        {&request_b1_corrected,
         {{attribute::userhash, 32},
          {attribute::nonce, 41},
          {attribute::realm, 11},
          {attribute::password_algorithm, 4},
          {attribute::message_integrity_sha256, 32}}},
    };
    for (const auto& layout : layouts) {
        const auto bytes = from_hex(*layout.hex);
        const auto message = MessageView::parse(bytes);
        ASSERT_TRUE(message.has_value());
        ASSERT_EQ(message->attributes().size(), layout.attributes.size());
        for (std::size_t i = 0; i < layout.attributes.size(); ++i) {
            EXPECT_EQ(message->attributes()[i].type, layout.attributes[i].first) << i;
            EXPECT_EQ(message->attributes()[i].value.size(), layout.attributes[i].second) << i;
        }
        EXPECT_TRUE(message->unknown_comprehension_required().empty());
    }
}

TEST(Rfc5769, SampleRequestCarriesItsIceAttributes) {
    const auto bytes = from_hex(request_2_1);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(to_hex(*message->find(attribute::ice_controlled)), "932ff9b151263b36");
    EXPECT_EQ(to_hex(message->transaction_id()), "b7e7a701bc34d686fa87dfae");
}

TEST(Rfc8489, CorrectedB1NamesSha256AsPasswordAlgorithm) {
    const auto bytes = from_hex(request_b1_corrected);
    const auto message = MessageView::parse(bytes);
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(decode_realm(*message->find(attribute::realm)), "example.org");
    EXPECT_EQ(to_hex(*message->find(attribute::password_algorithm)), "00020000");
    EXPECT_FALSE(message->message_integrity_offset().has_value());
    EXPECT_FALSE(verify_message_integrity_sha256(
        *message, long_term_key_sha256(username_2_4, "example.org", "TheMatrix")));
}

TEST(Rfc5769, FlippedByteBreaksShortTermIntegrity) {
    for (const auto& vector : {request_2_1, response_2_2, response_2_3}) {
        const auto original = from_hex(vector);
        const std::size_t fingerprint_start = original.size() - 8;
        for (std::size_t i = 0; i < fingerprint_start; ++i) {
            auto damaged = original;
            damaged[i] ^= std::byte{0x80};
            const auto message = MessageView::parse(damaged);
            EXPECT_FALSE(message.has_value() &&
                         verify_message_integrity(*message, text(short_term_password)))
                << "byte " << i;
        }
    }
}

TEST(Rfc8489, FlippedByteBreaksSha256Integrity) {
    const auto original = from_hex(request_b1_corrected);
    const auto key = long_term_key_sha256(username_2_4, "example.org", "TheMatrIX");
    for (std::size_t i = 0; i < original.size(); ++i) {
        auto damaged = original;
        damaged[i] ^= std::byte{0x01};
        const auto message = MessageView::parse(damaged);
        EXPECT_FALSE(message.has_value() && verify_message_integrity_sha256(*message, key))
            << "byte " << i;
    }
}

}  // namespace
}  // namespace hearth::stun
