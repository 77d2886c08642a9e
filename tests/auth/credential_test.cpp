#include "auth/credential.h"

#include <gtest/gtest.h>

#include "auth/base64.h"

namespace hearth::auth {
namespace {

TEST(Credential, MintsTheTurnRestPassword) {
    // printf %s '1700000000:s1:u1' | openssl dgst -sha1 -hmac north -binary | base64
    EXPECT_EQ(mint_password("north", "1700000000:s1:u1"), "2B5cTz2cHDUYjYDk+mREndJeSBM=");
    EXPECT_EQ(make_username(1700000000, "s1", "u1"), "1700000000:s1:u1");
}

TEST(Credential, ParsesAUsername) {
    const auto parsed = parse_username("1700000000:session-42:therapist@clinic");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->expiry_unix, 1700000000);
    EXPECT_EQ(parsed->session_id, "session-42");
    EXPECT_EQ(parsed->user_id, "therapist@clinic");
}

TEST(Credential, RefusesMalformedUsernames) {
    const struct {
        std::string username;
        UsernameError expected;
    } cases[] = {
        {"1700000000", UsernameError::malformed},
        {"1700000000:s1", UsernameError::malformed},
        {"1700000000:s1:u1:extra", UsernameError::malformed},
        {":s1:u1", UsernameError::bad_expiry},
        {"17x0:s1:u1", UsernameError::bad_expiry},
        {"-1:s1:u1", UsernameError::bad_expiry},
        {"12345678901234567890:s1:u1", UsernameError::bad_expiry},
        // Found by username_fuzzer: 19 digits overflowed the int64 expiry.
        {"9992999244482444800:998:u", UsernameError::bad_expiry},
        {"1700000000::u1", UsernameError::empty_session},
        {"1700000000:s1:", UsernameError::empty_user},
        {"1700000000:s 1:u1", UsernameError::bad_character},
        {"1700000000:s1:" + std::string(129, 'u'), UsernameError::bad_character},
        {"1:s:" + std::string(600, 'u'), UsernameError::too_long},
    };
    for (const auto& test : cases) {
        const auto parsed = parse_username(test.username);
        ASSERT_FALSE(parsed.has_value()) << test.username;
        EXPECT_EQ(parsed.error(), test.expected) << test.username;
    }
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
    const std::string text = "any carnal pleas";
    for (std::size_t length = 0; length <= text.size(); ++length) {
        const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(text.data()),
                                               length);
        const auto decoded = base64_decode(base64_encode(bytes));
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(decoded->size(), length);
    }
    EXPECT_EQ(base64_encode(std::as_bytes(std::span(text.data(), 4))), "YW55IA==");
    EXPECT_FALSE(base64_decode("abc").has_value());
    EXPECT_FALSE(base64_decode("ab=c").has_value());
    EXPECT_FALSE(base64_decode("a*bc").has_value());
}

// What OpenSSL's EVP_DecodeBlock alone would take or get wrong (base64.cpp checks first).
TEST(Base64, IsStrictWhereOpenSslIsLenient) {
    for (const char* text : {" YW5", "YW55\n", "=AAA", "Y===", "YW=A", "YW55IA=\n", "YW\x00z"}) {
        EXPECT_FALSE(
            base64_decode(std::string_view(text, std::char_traits<char>::length(text))).has_value())
            << text;
    }
    const auto one = base64_decode("YQ==");
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->size(), 1u);  // padding is not decoded as zero bytes
    EXPECT_EQ(std::to_integer<char>(one->front()), 'a');
    const auto two = base64_decode("YWI=");
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(two->size(), 2u);
    EXPECT_TRUE(base64_decode("")->empty());
}

}  // namespace
}  // namespace hearth::auth
