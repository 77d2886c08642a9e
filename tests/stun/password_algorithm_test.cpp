// PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS (RFC 8489 §14.11, §14.12).

#include "relay/stun/password_algorithm.h"

#include <gtest/gtest.h>

#include "byte_helpers.h"

namespace hearth::stun {
namespace {

using testing::bytes;

TEST(PasswordAlgorithm, EncodesTheRegistryNumberWithNoParameters) {
    EXPECT_EQ(testing::to_hex(encode_password_algorithm(PasswordAlgorithm::md5)), "00010000");
    EXPECT_EQ(testing::to_hex(encode_password_algorithm(PasswordAlgorithm::sha256)), "00020000");
}

TEST(PasswordAlgorithm, DecodesExactlyOneEntry) {
    const auto sha256 = bytes({0x00, 0x02, 0x00, 0x00});
    const auto entry = decode_password_algorithm(sha256);
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(known_password_algorithm(*entry), PasswordAlgorithm::sha256);

    const auto with_parameters = bytes({0x00, 0x07, 0x00, 0x02, 0xAB, 0xCD, 0x00, 0x00});
    const auto other = decode_password_algorithm(with_parameters);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->number, 7);
    EXPECT_EQ(other->parameters.size(), 2u);
    EXPECT_FALSE(known_password_algorithm(*other).has_value());

    for (const auto& malformed : {bytes({}), bytes({0x00, 0x02}), bytes({0x00, 0x02, 0x00, 0x04}),
                                  bytes({0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00})}) {
        EXPECT_FALSE(decode_password_algorithm(malformed).has_value()) << malformed.size();
    }
}

TEST(PasswordAlgorithm, MD5AndSha256TakeNoParameters) {
    const auto md5_with_parameters = bytes({0x00, 0x01, 0x00, 0x01, 0xFF, 0x00, 0x00, 0x00});
    EXPECT_FALSE(known_password_algorithm(*decode_password_algorithm(md5_with_parameters)));
    EXPECT_FALSE(known_password_algorithm(PasswordAlgorithmEntry{0x0003, {}}));
}

TEST(PasswordAlgorithms, ContainsAnEntryOfAWellFormedList) {
    const auto list = bytes({0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 0xEE, 0x00, 0x00, 0x00,
                             0x00, 0x01, 0x00, 0x00});
    EXPECT_TRUE(password_algorithms_contain(list, {0x0002, {}}));
    EXPECT_TRUE(password_algorithms_contain(list, {0x0001, {}}));
    const auto parameter = bytes({0xEE});
    EXPECT_TRUE(password_algorithms_contain(list, {0x0009, parameter}));
    EXPECT_FALSE(password_algorithms_contain(list, {0x0009, {}}));
    EXPECT_FALSE(password_algorithms_contain(list, {0x0003, {}}));
    // A list that runs past its value holds nothing, whatever came before.
    const auto truncated = bytes({0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08});
    EXPECT_FALSE(password_algorithms_contain(truncated, {0x0002, {}}));
    EXPECT_FALSE(password_algorithms_contain({}, {0x0002, {}}));
}

}  // namespace
}  // namespace hearth::stun
