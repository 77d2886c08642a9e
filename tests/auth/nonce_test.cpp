#include "auth/nonce.h"

#include <gtest/gtest.h>

#include "auth/base64.h"

namespace hearth::auth {
namespace {

constexpr stun::SecurityFeatures algorithms{.password_algorithms = true};

class NonceTest : public ::testing::Test {
  protected:
    NonceIssuer issuer_{NonceIssuer::random_key(), std::chrono::seconds(600)};
    IpAddress client_ = *IpAddress::parse("198.51.100.9");
    static constexpr std::int64_t now_ = 1'700'000'000;

    NonceCheck verdict(std::string_view nonce, std::int64_t now = now_) const {
        return issuer_.check(nonce, client_, now).verdict;
    }
};

TEST_F(NonceTest, IsValidUntilItExpiresThenStale) {
    const auto nonce = issuer_.issue(client_, now_, algorithms);
    EXPECT_EQ(nonce.size(), NonceIssuer::size);
    EXPECT_EQ(verdict(nonce), NonceCheck::valid);
    EXPECT_EQ(verdict(nonce, now_ + 600), NonceCheck::valid);
    EXPECT_EQ(verdict(nonce, now_ + 601), NonceCheck::stale);
}

// RFC 8489 §9.2: the cookie and the features come first; the rest is base64url.
TEST_F(NonceTest, StartsWithTheCookieOfItsFeatures) {
    for (const bool anonymity : {false, true}) {
        const stun::SecurityFeatures features{true, anonymity};
        const auto nonce = issuer_.issue(client_, now_, features);
        EXPECT_TRUE(nonce.starts_with(stun::nonce_cookie_for(features))) << nonce;
        EXPECT_EQ(nonce.find_first_not_of(
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                      stun::nonce_cookie_size),
                  std::string::npos)
            << nonce;
        const auto checked = issuer_.check(nonce, client_, now_);
        EXPECT_EQ(checked.verdict, NonceCheck::valid);
        EXPECT_EQ(checked.features, features);
    }
}

TEST_F(NonceTest, IsBoundToTheClientAndTheKey) {
    const auto nonce = issuer_.issue(client_, now_, algorithms);
    EXPECT_EQ(issuer_.check(nonce, *IpAddress::parse("198.51.100.10"), now_).verdict,
              NonceCheck::invalid);
    EXPECT_EQ(issuer_.check(nonce, *IpAddress::parse("2001:db8::9"), now_).verdict,
              NonceCheck::invalid);
    NonceIssuer other(NonceIssuer::random_key(), std::chrono::seconds(600));
    EXPECT_EQ(other.check(nonce, client_, now_).verdict, NonceCheck::invalid);
}

// The bid-down attack (RFC 8489 §9.2.1): the features are covered by the MAC, so a nonce
// whose "Password algorithms" bit was cleared on the way is not a nonce of ours.
TEST_F(NonceTest, ItsFeatureBitsCannotBeChanged) {
    const auto nonce = issuer_.issue(client_, now_, algorithms);
    ASSERT_EQ(nonce.substr(0, stun::nonce_cookie_size), "obMatJos2AAAB");
    for (const char* bits : {"AAAA", "AAAC", "AAAD"}) {
        auto changed = nonce;
        changed.replace(stun::nonce_cookie.size(), 4, bits);
        EXPECT_EQ(verdict(changed), NonceCheck::invalid) << bits;
    }
}

TEST_F(NonceTest, TamperingIsDetected) {
    const auto nonce = issuer_.issue(client_, now_, algorithms);
    for (std::size_t i = stun::nonce_cookie_size; i < nonce.size(); ++i) {
        auto changed = nonce;
        changed[i] = changed[i] == 'A' ? 'B' : 'A';
        EXPECT_EQ(verdict(changed), NonceCheck::invalid) << i;
    }
    EXPECT_EQ(verdict(""), NonceCheck::invalid);
    EXPECT_EQ(verdict(std::string(NonceIssuer::size, 'z')), NonceCheck::invalid);
    EXPECT_EQ(verdict(nonce + "A"), NonceCheck::invalid);
    EXPECT_EQ(verdict(nonce.substr(0, NonceIssuer::size - 1)), NonceCheck::invalid);
    // The nonces of the RFC 5389 format hearth issued before the cookie are refused too.
    EXPECT_EQ(verdict("00000000655a8a2c0123456789abcdef01234567"), NonceCheck::invalid);
}

TEST(Base64Url, RoundTripsWithoutPadding) {
    const std::array<std::byte, 5> bytes{std::byte{0xFB}, std::byte{0xFF}, std::byte{0x00},
                                         std::byte{0x3E}, std::byte{0x7F}};
    const auto text = base64url_encode(bytes);
    EXPECT_EQ(text, "-_8APn8");  // "+/8APn8=" in standard base64
    const auto decoded = base64url_decode(text);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_TRUE(std::ranges::equal(*decoded, bytes));
    EXPECT_FALSE(base64url_decode("+/8APn8").has_value());
    EXPECT_FALSE(base64url_decode("-_8APn8=").has_value());
    EXPECT_FALSE(base64url_decode("A").has_value());
    EXPECT_TRUE(base64url_decode("")->empty());
}

}  // namespace
}  // namespace hearth::auth
