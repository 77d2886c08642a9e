// The long-term credential check (RFC 8489 §9.2.4): attributes, the password algorithm and
// the bid-down attack (§9.2.1), USERHASH (§14.4), the key (§9.2.2) and integrity (§14.6).

#include "relay/turn/long_term_credentials.h"

#include <gtest/gtest.h>

#include <functional>

#include "relay/stun/integrity.h"
#include "relay/stun/message_builder.h"
#include "relay/stun/password_algorithm.h"

namespace hearth::turn {
namespace {

namespace attribute = stun::attribute;
using stun::IntegrityAttribute;
using stun::PasswordAlgorithm;

constexpr std::string_view realm = "hearth";
const std::string cookie_nonce = stun::nonce_cookie_for({.password_algorithms = true}) + "x";
const std::string plain_nonce = "no-cookie";  // a nonce that offers nothing (not hearth's)

class TableSource final : public CredentialSource {
  public:
    std::optional<stun::SecurityFeatures> valid_nonce(std::string_view nonce, const IpAddress&,
                                                      std::int64_t) override {
        if (nonce != cookie_nonce && nonce != plain_nonce) {
            return std::nullopt;
        }
        return stun::read_nonce_cookie(nonce).value_or(stun::SecurityFeatures{});
    }
    std::expected<Owner, AuthFailure> owner_of(std::string_view username, std::int64_t) override {
        if (username == "expired") {
            return std::unexpected(AuthFailure::expired_username);
        }
        return Owner{std::string(username), "s1", std::string(username), 0};
    }
    std::vector<std::string> passwords_of(std::string_view) override { return passwords; }
    std::vector<std::string> passwords{"old-secret's", "pw"};  // two secrets in the ring
};

// One request, written attribute by attribute, and the check run over it.
struct Draft {
    std::array<std::byte, 512> buffer_{};
    stun::MessageBuilder builder_{buffer_, stun::Method::allocate, stun::MessageClass::request,
                                  stun::TransactionId{}};
    TableSource source_;
    IpAddress client_ = *IpAddress::parse("198.51.100.7");
    std::vector<std::string_view> candidates_;

    void credentials(std::string_view nonce, std::string_view username = "alice") {
        builder_.add_string(attribute::username, username);
        builder_.add_string(attribute::realm, realm);
        builder_.add_string(attribute::nonce, nonce);
    }
    void algorithms(stun::Bytes list = offered_password_algorithms()) {
        builder_.add(attribute::password_algorithms, list);
    }
    void algorithm(PasswordAlgorithm chosen) {
        builder_.add(attribute::password_algorithm, stun::encode_password_algorithm(chosen));
    }
    static stun::Md5Key md5(std::string_view username = "alice") {
        return stun::long_term_key_md5(username, realm, "pw");
    }
    static stun::Sha256Key sha256(std::string_view username = "alice") {
        return stun::long_term_key_sha256(username, realm, "pw");
    }
    std::expected<Credentials, AuthFailure> check() {
        builder_.add_fingerprint();
        const auto message = stun::MessageView::parse(builder_.finish());
        EXPECT_TRUE(message.has_value());
        return check_long_term_credentials(*message, {realm, client_, 0, candidates_}, source_);
    }
};

// Most tests write one request; those with tables write one per case.
class LongTermCredentialsTest : public ::testing::Test, public Draft {};

TEST(OfferedPasswordAlgorithms, AreSha256ThenMd5) {
    const std::array<std::byte, 8> expected{std::byte{0}, std::byte{2}, {}, {},
                                            std::byte{0}, std::byte{1}, {}, {}};
    EXPECT_TRUE(std::ranges::equal(offered_password_algorithms(), expected));
}

// RFC 8489 §9.2.4: neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM is an RFC 5389
// client (every browser), even behind a nonce that offered them: MD5, MESSAGE-INTEGRITY.
TEST_F(LongTermCredentialsTest, ALegacyClientIsCheckedWithMd5AndAnsweredWithMessageIntegrity) {
    credentials(cookie_nonce);
    builder_.add_message_integrity(md5());
    const auto checked = check();
    ASSERT_TRUE(checked.has_value()) << to_string(checked.error());
    EXPECT_EQ(checked->owner.username, "alice");
    EXPECT_EQ(checked->key, stun::IntegrityKey::md5(md5(), IntegrityAttribute::message_integrity));
}

TEST_F(LongTermCredentialsTest, ASha256ClientIsCheckedAndAnsweredWithSha256) {
    credentials(cookie_nonce);
    algorithms();
    algorithm(PasswordAlgorithm::sha256);
    builder_.add_message_integrity_sha256(sha256());
    const auto checked = check();
    ASSERT_TRUE(checked.has_value()) << to_string(checked.error());
    EXPECT_EQ(checked->key,
              stun::IntegrityKey::sha256(sha256(), IntegrityAttribute::message_integrity_sha256));
}

// RFC 8489 §9.2.4, last paragraph: a request that named an algorithm is answered with
// MESSAGE-INTEGRITY-SHA256, whichever algorithm it named and integrity attribute it used.
TEST_F(LongTermCredentialsTest, AnMd5ClientThatNegotiatedIsAnsweredWithMessageIntegritySha256) {
    credentials(cookie_nonce);
    algorithms();
    algorithm(PasswordAlgorithm::md5);
    builder_.add_message_integrity(md5());
    const auto checked = check();
    ASSERT_TRUE(checked.has_value()) << to_string(checked.error());
    EXPECT_EQ(checked->key,
              stun::IntegrityKey::md5(md5(), IntegrityAttribute::message_integrity_sha256));
}

// The bid-down attack (RFC 8489 §9.2.1): behind a nonce that offered password algorithms,
// anything but the offered list echoed with one of its entries chosen is 400.
TEST_F(LongTermCredentialsTest, ABidDownIsRefusedWhateverItsShape) {
    const auto md5_only = stun::encode_password_algorithm(PasswordAlgorithm::md5);
    const std::array<std::byte, 8> reordered{std::byte{0}, std::byte{1}, {}, {},
                                             std::byte{0}, std::byte{2}, {}, {}};
    const std::array<std::byte, 4> unknown{std::byte{0}, std::byte{3}, {}, {}};
    const std::array<std::byte, 8> with_parameters{
        std::byte{0}, std::byte{2}, std::byte{0}, std::byte{1}, std::byte{0xFF}, {}, {}, {}};
    struct Case {
        const char* name;
        std::function<void(Draft&)> write;
    };
    const std::vector<Case> cases{
        {"PASSWORD-ALGORITHM alone", [](auto& test) { test.algorithm(PasswordAlgorithm::sha256); }},
        {"PASSWORD-ALGORITHMS alone", [](auto& test) { test.algorithms(); }},
        {"a list with MD5 only",
         [&](auto& test) {
             test.algorithms(md5_only);
             test.algorithm(PasswordAlgorithm::md5);
         }},
        {"the list reordered",
         [&](auto& test) {
             test.algorithms(reordered);
             test.algorithm(PasswordAlgorithm::md5);
         }},
        {"an algorithm not in the list",
         [&](auto& test) {
             test.algorithms();
             test.builder_.add(attribute::password_algorithm, unknown);
         }},
        {"SHA-256 with parameters",
         [&](auto& test) {
             test.algorithms();
             test.builder_.add(attribute::password_algorithm,
                               stun::Bytes(with_parameters.data(), 8));
         }},
    };
    for (const auto& bid_down : cases) {
        Draft test;
        test.credentials(cookie_nonce);
        bid_down.write(test);
        test.builder_.add_message_integrity(md5());  // a key that would verify otherwise
        test.builder_.add_message_integrity_sha256(sha256());
        EXPECT_EQ(test.check(), std::unexpected(AuthFailure::bid_down)) << bid_down.name;
    }
}

// A nonce without the "Password algorithms" bit (another server's, or RFC 8489 B.1's)
// leaves the list unchecked; PASSWORD-ALGORITHM still says how the key is derived.
TEST_F(LongTermCredentialsTest, WithoutTheFeatureBitPasswordAlgorithmAloneIsHonoured) {
    credentials(plain_nonce);
    algorithm(PasswordAlgorithm::sha256);
    builder_.add_message_integrity_sha256(sha256());
    const auto checked = check();
    ASSERT_TRUE(checked.has_value()) << to_string(checked.error());
    EXPECT_EQ(checked->key.algorithm(), PasswordAlgorithm::sha256);
}

// RFC 8489 §14.6: an agent may send both; each must verify, or a forged one could ride on
// a genuine other.
TEST_F(LongTermCredentialsTest, BothIntegrityAttributesMustVerify) {
    for (const bool sha1_right : {false, true}) {
        for (const bool sha256_right : {false, true}) {
            Draft test;
            test.credentials(cookie_nonce);
            test.algorithms();
            test.algorithm(PasswordAlgorithm::sha256);
            test.builder_.add_message_integrity(sha1_right ? sha256() : sha256("mallory"));
            test.builder_.add_message_integrity_sha256(sha256_right ? sha256() : sha256("mallory"));
            EXPECT_EQ(test.check().has_value(), sha1_right && sha256_right)
                << sha1_right << sha256_right;
        }
    }
}

TEST_F(LongTermCredentialsTest, AnyPasswordOfTheUsernameMayVerify) {
    source_.passwords = {"pw"};
    credentials(cookie_nonce);
    builder_.add_message_integrity(md5());
    EXPECT_TRUE(check().has_value());
    Draft retired;
    retired.source_.passwords = {"the-newest"};
    retired.credentials(cookie_nonce);
    retired.builder_.add_message_integrity(md5());
    EXPECT_EQ(retired.check(), std::unexpected(AuthFailure::bad_integrity));
}

// RFC 8489 §9.2.4, in hearth's order: what is missing, the realm, the nonce, the algorithm,
// the username, the password.
TEST_F(LongTermCredentialsTest, RefusalsComeInTheirOrder) {
    struct Case {
        const char* name;
        std::function<void(Draft&)> write;
        AuthFailure failure;
    };
    const std::vector<Case> cases{
        {"no integrity", [](auto& test) { test.credentials(cookie_nonce); },
         AuthFailure::missing_integrity},
        {"no USERNAME or USERHASH",
         [](auto& test) {
             test.builder_.add_string(attribute::realm, realm);
             test.builder_.add_string(attribute::nonce, cookie_nonce);
             test.builder_.add_message_integrity(md5());
         },
         AuthFailure::missing_attributes},
        {"no NONCE, only MESSAGE-INTEGRITY-SHA256",
         [](auto& test) {
             test.builder_.add_string(attribute::username, "alice");
             test.builder_.add_string(attribute::realm, realm);
             test.builder_.add_message_integrity_sha256(sha256());
         },
         AuthFailure::missing_attributes},
        {"a USERHASH of 20 bytes",
         [](auto& test) {
             test.builder_.add(attribute::userhash, std::array<std::byte, 20>{});
             test.builder_.add_string(attribute::realm, realm);
             test.builder_.add_string(attribute::nonce, cookie_nonce);
             test.builder_.add_message_integrity(md5());
         },
         AuthFailure::missing_attributes},
        {"another realm",
         [](auto& test) {
             test.builder_.add_string(attribute::username, "alice");
             test.builder_.add_string(attribute::realm, "elsewhere");
             test.builder_.add_string(attribute::nonce, cookie_nonce);
             test.builder_.add_message_integrity(md5());
         },
         AuthFailure::wrong_realm},
        {"a stale nonce, and a bid-down",
         [](auto& test) {
             test.credentials("stale");
             test.algorithm(PasswordAlgorithm::md5);
             test.builder_.add_message_integrity(md5());
         },
         AuthFailure::stale_nonce},
        {"an expired username",
         [](auto& test) {
             test.credentials(cookie_nonce, "expired");
             test.builder_.add_message_integrity(md5("expired"));
         },
         AuthFailure::expired_username},
        {"a wrong password",
         [](auto& test) {
             test.credentials(cookie_nonce);
             test.builder_.add_message_integrity(stun::long_term_key_md5("alice", realm, "x"));
         },
         AuthFailure::bad_integrity},
    };
    for (const auto& refused : cases) {
        Draft test;
        refused.write(test);
        EXPECT_EQ(test.check(), std::unexpected(refused.failure)) << refused.name;
    }
}

// RFC 8489 §14.4: USERHASH = SHA-256(username ":" realm), checked against the usernames
// the caller can name (hearth: the allocation's on the request's 5-tuple).
TEST_F(LongTermCredentialsTest, AUserhashStandsForTheCandidateItHashes) {
    candidates_ = {"bob", "alice"};
    builder_.add(attribute::userhash, stun::userhash("alice", realm));
    builder_.add_string(attribute::realm, realm);
    builder_.add_string(attribute::nonce, cookie_nonce);
    algorithms();
    algorithm(PasswordAlgorithm::sha256);
    builder_.add_message_integrity_sha256(sha256());
    const auto checked = check();
    ASSERT_TRUE(checked.has_value()) << to_string(checked.error());
    EXPECT_EQ(checked->owner.username, "alice");
}

TEST_F(LongTermCredentialsTest, AUserhashOfNoCandidateIsUnknown) {
    for (const auto& candidates :
         {std::vector<std::string_view>{}, std::vector<std::string_view>{"bob"}}) {
        Draft test;
        test.candidates_ = candidates;
        test.builder_.add(attribute::userhash, stun::userhash("alice", realm));
        test.builder_.add_string(attribute::realm, realm);
        test.builder_.add_string(attribute::nonce, cookie_nonce);
        test.builder_.add_message_integrity(md5());
        EXPECT_EQ(test.check(), std::unexpected(AuthFailure::unknown_userhash))
            << candidates.size();
    }
}

TEST_F(LongTermCredentialsTest, UsernameWinsOverUserhash) {
    candidates_ = {"bob"};
    builder_.add_string(attribute::username, "alice");
    builder_.add(attribute::userhash, stun::userhash("bob", realm));
    builder_.add_string(attribute::realm, realm);
    builder_.add_string(attribute::nonce, cookie_nonce);
    builder_.add_message_integrity(md5());
    const auto checked = check();
    ASSERT_TRUE(checked.has_value()) << to_string(checked.error());
    EXPECT_EQ(checked->owner.username, "alice");
}

}  // namespace
}  // namespace hearth::turn
