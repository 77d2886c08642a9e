#include "auth/nonce.h"

#include <gtest/gtest.h>

namespace hearth::auth {
namespace {

class NonceTest : public ::testing::Test {
  protected:
    NonceIssuer issuer_{NonceIssuer::random_key(), std::chrono::seconds(600)};
    IpAddress client_ = *IpAddress::parse("198.51.100.9");
    static constexpr std::int64_t now_ = 1'700'000'000;
};

TEST_F(NonceTest, IsValidUntilItExpiresThenStale) {
    const auto nonce = issuer_.issue(client_, now_);
    EXPECT_EQ(nonce.size(), 40u);
    EXPECT_EQ(issuer_.check(nonce, client_, now_), NonceCheck::valid);
    EXPECT_EQ(issuer_.check(nonce, client_, now_ + 600), NonceCheck::valid);
    EXPECT_EQ(issuer_.check(nonce, client_, now_ + 601), NonceCheck::stale);
}

TEST_F(NonceTest, IsBoundToTheClientAndTheKey) {
    const auto nonce = issuer_.issue(client_, now_);
    EXPECT_EQ(issuer_.check(nonce, *IpAddress::parse("198.51.100.10"), now_), NonceCheck::invalid);
    NonceIssuer other(NonceIssuer::random_key(), std::chrono::seconds(600));
    EXPECT_EQ(other.check(nonce, client_, now_), NonceCheck::invalid);
}

TEST_F(NonceTest, TamperingIsDetected) {
    auto nonce = issuer_.issue(client_, now_);
    nonce[15] = nonce[15] == 'f' ? 'e' : 'f';  // push the expiry
    EXPECT_EQ(issuer_.check(nonce, client_, now_), NonceCheck::invalid);
    EXPECT_EQ(issuer_.check("", client_, now_), NonceCheck::invalid);
    EXPECT_EQ(issuer_.check(std::string(40, 'z'), client_, now_), NonceCheck::invalid);
}

}  // namespace
}  // namespace hearth::auth
