// The nonce cookie and the STUN Security Features (RFC 8489 §9.2, §18.1, Erratum 6290).

#include "relay/stun/nonce_cookie.h"

#include <gtest/gtest.h>

#include "rfc5769_vectors.h"

namespace hearth::stun {
namespace {

TEST(NonceCookie, CountsTheFeatureBitsFromTheRight) {
    EXPECT_EQ(nonce_cookie_for({}), "obMatJos2AAAA");
    EXPECT_EQ(nonce_cookie_for({.password_algorithms = true}), "obMatJos2AAAB");
    EXPECT_EQ(nonce_cookie_for({.username_anonymity = true}), "obMatJos2AAAC");
    EXPECT_EQ(nonce_cookie_for({.password_algorithms = true, .username_anonymity = true}),
              "obMatJos2AAAD");
}

TEST(NonceCookie, ReadsWhatItWrites) {
    for (const bool algorithms : {false, true}) {
        for (const bool anonymity : {false, true}) {
            const SecurityFeatures features{algorithms, anonymity};
            EXPECT_EQ(read_nonce_cookie(nonce_cookie_for(features) + "rest"), features);
        }
    }
}

TEST(NonceCookie, TheB1VectorOffersUsernameAnonymity) {
    // RFC 8489 Appendix B.1: "AAAC" is bit 1 only (with Erratum 6290's numbering).
    EXPECT_EQ(read_nonce_cookie(testing::nonce_b1),
              (SecurityFeatures{.password_algorithms = false, .username_anonymity = true}));
}

TEST(NonceCookie, NoncesWithoutTheCookieAnnounceNothing) {
    EXPECT_FALSE(read_nonce_cookie(testing::nonce_2_4).has_value());  // an RFC 5389 nonce
    EXPECT_FALSE(read_nonce_cookie("obMatJos2AA").has_value());       // cut short
    EXPECT_FALSE(read_nonce_cookie("obMatJos2A*AB").has_value());     // not base64
    EXPECT_FALSE(read_nonce_cookie("obmatjos2AAAB").has_value());     // the cookie is exact
    // Bits hearth does not know are ignored: "////" is all 24 bits.
    EXPECT_EQ(read_nonce_cookie("obMatJos2////"), (SecurityFeatures{true, true}));
    EXPECT_EQ(read_nonce_cookie("obMatJos2gAAA"), (SecurityFeatures{}));
}

}  // namespace
}  // namespace hearth::stun
