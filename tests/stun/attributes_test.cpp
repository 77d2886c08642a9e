// Attribute value decoders and the XOR address encoding (RFC 8489 §14, RFC 8656 §18).

#include "relay/stun/attributes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "byte_helpers.h"

namespace hearth::stun {
namespace {

using testing::bytes;
using testing::from_hex;
using testing::test_transaction_id;
using testing::to_hex;

TEST(XorAddress, EncodesIpv4AgainstTheCookie) {
    // RFC 8489 §14.2: port XOR 0x2112, IPv4 XOR 0x2112A442.
    std::array<std::byte, 20> out{};
    const auto length =
        encode_xor_address(*TransportAddress::parse("192.0.2.1:32853"), test_transaction_id, out);
    ASSERT_EQ(length, 8u);
    EXPECT_EQ(to_hex(Bytes(out).first(length)), "0001a147e112a643");
}

TEST(XorAddress, EncodesIpv6AgainstCookieAndTransactionId) {
    std::array<std::byte, 20> out{};
    const auto length =
        encode_xor_address(*TransportAddress::parse("[::]:0"), test_transaction_id, out);
    ASSERT_EQ(length, 20u);
    EXPECT_EQ(to_hex(Bytes(out).first(length)),
              "00022112"
              "2112a442"
              "0102030405060708090a0b0c");
}

TEST(XorAddress, RoundTripsBothFamilies) {
    for (const auto* text :
         {"0.0.0.0:0", "255.255.255.255:65535", "10.1.2.3:3478", "[::1]:1",
          "[2001:db8:1234:5678:11:2233:4455:6677]:32853", "[::ffff:1.2.3.4]:9"}) {
        const auto address = *TransportAddress::parse(text);
        std::array<std::byte, 20> out{};
        const auto length = encode_xor_address(address, test_transaction_id, out);
        EXPECT_EQ(decode_xor_address(Bytes(out).first(length), test_transaction_id), address)
            << text;
    }
}

TEST(XorAddress, TransactionIdMattersOnlyForIpv6) {
    TransactionId other = test_transaction_id;
    other[0] = std::byte{0xFF};
    std::array<std::byte, 20> out{};
    const auto v4 = *TransportAddress::parse("192.0.2.1:5");
    encode_xor_address(v4, test_transaction_id, out);
    EXPECT_EQ(decode_xor_address(Bytes(out).first(8), other), v4);
    const auto v6 = *TransportAddress::parse("[2001:db8::1]:5");
    encode_xor_address(v6, test_transaction_id, out);
    EXPECT_NE(decode_xor_address(Bytes(out).first(20), other), v6);
}

TEST(Address, DecodesPlainMappedAddress) {
    EXPECT_EQ(decode_address(from_hex("0001 0d96 c0000201")),
              TransportAddress::parse("192.0.2.1:3478"));
    EXPECT_EQ(decode_address(from_hex("0002 0050 20010db8000000000000000000000001")),
              TransportAddress::parse("[2001:db8::1]:80"));
}

TEST(Address, IgnoresTheReservedByte) {
    // RFC 8489 §14.1: the first byte is zero when sent and ignored when received.
    EXPECT_EQ(decode_address(from_hex("ff01 0d96 c0000201")),
              TransportAddress::parse("192.0.2.1:3478"));
}

TEST(Address, RejectsWrongFamilyOrSize) {
    const std::vector<std::vector<std::byte>> invalid = {
        {},
        from_hex("0001"),
        from_hex("0001 0d96 c00002"),                            // IPv4 one byte short
        from_hex("0001 0d96 c0000201 00"),                       // IPv4 one byte long
        from_hex("0002 0d96 c0000201"),                          // IPv6 family, IPv4 length
        from_hex("0001 0d96 20010db8000000000000000000000001"),  // IPv4 family, IPv6 length
        from_hex("0003 0d96 c0000201"),                          // no such family
        from_hex("0000 0d96 c0000201"),
    };
    for (std::size_t i = 0; i < invalid.size(); ++i) {
        EXPECT_FALSE(decode_address(invalid[i]).has_value()) << i;
        EXPECT_FALSE(decode_xor_address(invalid[i], test_transaction_id).has_value()) << i;
    }
}

TEST(FixedSizeValues, DecodeOnlyAtTheirSize) {
    EXPECT_EQ(decode_u32(from_hex("00000258")), 600u);
    EXPECT_FALSE(decode_u32(from_hex("000258")).has_value());
    EXPECT_FALSE(decode_u32(from_hex("0000025800")).has_value());

    // RFC 8656 §18.1: channel number then RFFU, which is ignored.
    EXPECT_EQ(decode_channel_number(from_hex("4001ffff")), 0x4001);
    EXPECT_FALSE(decode_channel_number(from_hex("4001")).has_value());

    // RFC 8656 §18.6: protocol then RFFU.
    EXPECT_EQ(decode_requested_transport(from_hex("11000000")), 17);
    EXPECT_EQ(decode_requested_transport(from_hex("06000000")), 6);
    EXPECT_FALSE(decode_requested_transport(from_hex("11")).has_value());
}

TEST(AddressFamilyValue, AcceptsOnlyIpv4AndIpv6) {
    EXPECT_EQ(decode_address_family(from_hex("01000000")), AddressFamily::ipv4);
    EXPECT_EQ(decode_address_family(from_hex("02000000")), AddressFamily::ipv6);
    EXPECT_FALSE(decode_address_family(from_hex("00000000")).has_value());
    EXPECT_FALSE(decode_address_family(from_hex("03000000")).has_value());
    EXPECT_FALSE(decode_address_family(from_hex("01")).has_value());
}

std::vector<std::byte> error_code_value(int error_class, int number, std::string_view reason) {
    auto value = bytes({0, 0, error_class, number});
    for (const char c : reason) {
        value.push_back(static_cast<std::byte>(c));
    }
    return value;
}

TEST(ErrorCodeValue, DecodesCodesFrom300To699) {
    struct Case {
        int error_class;
        int number;
        std::optional<int> code;
    };
    const Case cases[] = {
        {3, 0, 300},          {4, 1, 401},           {4, 38, 438},         {5, 8, 508},
        {6, 99, 699},         {2, 99, std::nullopt}, {7, 0, std::nullopt}, {4, 100, std::nullopt},
        {0, 0, std::nullopt},
    };
    for (const auto& test : cases) {
        const auto value = error_code_value(test.error_class, test.number, "x");
        const auto decoded = decode_error_code(value);
        EXPECT_EQ(decoded.has_value(), test.code.has_value()) << test.error_class << test.number;
        if (decoded && test.code) {
            EXPECT_EQ(decoded->code, *test.code);
            EXPECT_EQ(decoded->reason, "x");
        }
    }
}

TEST(ErrorCodeValue, IgnoresReservedBitsAndBoundsTheReason) {
    auto value = error_code_value(4, 1, "Unauthorized");
    value[2] = std::byte{0xFC};  // reserved bits above the class
    EXPECT_EQ(decode_error_code(value)->code, 401);
    EXPECT_FALSE(decode_error_code(from_hex("000004")).has_value());
    EXPECT_EQ(decode_error_code(error_code_value(4, 0, ""))->reason, "");
    EXPECT_TRUE(decode_error_code(error_code_value(4, 0, std::string(763, 'a'))).has_value());
    EXPECT_FALSE(decode_error_code(error_code_value(4, 0, std::string(764, 'a'))).has_value());
}

TEST(TextValues, EnforceTheRfcByteBounds) {
    const std::vector<std::byte> username_limit(512, std::byte{'u'});
    const std::vector<std::byte> username_over(513, std::byte{'u'});
    EXPECT_EQ(decode_username(username_limit)->size(), 512u);
    EXPECT_FALSE(decode_username(username_over).has_value());

    const std::vector<std::byte> text_limit(762, std::byte{'t'});
    const std::vector<std::byte> text_over(763, std::byte{'t'});
    for (auto* decode : {&decode_realm, &decode_nonce, &decode_software}) {
        EXPECT_EQ((*decode)(text_limit)->size(), 762u);
        EXPECT_FALSE((*decode)(text_over).has_value());
        EXPECT_EQ((*decode)({}), "");
    }
}

TEST(TextValues, PointIntoTheMessage) {
    const auto value = bytes({'r', 'e', 'a', 'l', 'm'});
    const auto realm = decode_realm(value);
    ASSERT_TRUE(realm.has_value());
    EXPECT_EQ(static_cast<const void*>(realm->data()), static_cast<const void*>(value.data()));
}

}  // namespace
}  // namespace hearth::stun
