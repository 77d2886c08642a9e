#include "relay/turn/source_prefix.h"

#include <gtest/gtest.h>

#include <string>

#include "relay/turn/source_ban_list.h"
#include "relay/turn/source_rate_limiter.h"

namespace hearth::turn {
namespace {

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

TEST(SourcePrefix, AnIpv6SourceIsItsSlash64AndIpv4KeepsEveryBit) {
    EXPECT_EQ(source_prefix(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
    EXPECT_EQ(source_prefix(ip("198.51.100.7")), ip("198.51.100.7"));
}

TEST(SourcePrefix, AnIpv6FormCarryingIpv4CountsAsThatIpv4Address) {
    // A dual-stack socket's view of an IPv4 client: not one /64 for the whole IPv4 internet.
    EXPECT_EQ(source_prefix(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
    // Nor for every IPv4 host behind a NAT64 gateway.
    EXPECT_EQ(source_prefix(ip("64:ff9b::198.51.100.7")), ip("198.51.100.7"));
    // 6to4 (RFC 3056 §2): the /48 after 2002: is one IPv4 address's, whatever follows.
    EXPECT_EQ(source_prefix(ip("2002:c633:6407::1")), ip("198.51.100.7"));
    EXPECT_EQ(source_prefix(ip("2002:c633:6407:ffff:1:2:3:4")), ip("198.51.100.7"));
    // Teredo (RFC 4380 §4): server 192.0.2.1, flags, port, then the client's address with
    // every bit inverted (~198.51.100.7 = 57.204.155.248 = 39cc:9bf8).
    EXPECT_EQ(source_prefix(ip("2001:0:c000:201:0:f227:39cc:9bf8")), ip("198.51.100.7"));
    EXPECT_EQ(source_prefix(ip("2001:0:cb00:7101:8000:1234:39cc:9bf8")), ip("198.51.100.7"));
}

TEST(SourcePrefix, OneIpv4HolderBehindManyOtherAddressesMeetsOneRateLimit) {
    // 100 requests from 100 6to4 addresses (and then Teredo ones) of one IPv4 address
    // against a limit of 20 a second: 20 pass, as from the IPv4 address itself.
    SourceRateLimiter limiter(20);
    const TimePoint now{};
    int passed = 0;
    for (int i = 0; i < 100; ++i) {
        const auto subnet = std::to_string(i);
        passed += limiter.allow(ip(("2002:c633:6407:" + subnet + "::" + subnet).c_str()), now);
    }
    EXPECT_EQ(passed, 20);
    EXPECT_FALSE(limiter.allow(ip("2001:0:c000:201:0:f227:39cc:9bf8"), now));
    EXPECT_FALSE(limiter.allow(ip("198.51.100.7"), now));
    EXPECT_TRUE(limiter.allow(ip("2002:c633:6408::1"), now));  // another IPv4 holder
}

TEST(SourcePrefix, OneSlash64SharesOneRateLimitBucket) {
    SourceRateLimiter limiter(2);
    const TimePoint now{};
    EXPECT_TRUE(limiter.allow(ip("2001:db8:1:2::1"), now));
    EXPECT_TRUE(limiter.allow(ip("2001:db8:1:2::2"), now));
    EXPECT_FALSE(limiter.allow(ip("2001:db8:1:2::3"), now));  // a new address, the same /64
    EXPECT_TRUE(limiter.allow(ip("2001:db8:1:3::1"), now));   // the next /64
    EXPECT_TRUE(limiter.allow(ip("::ffff:198.51.100.1"), now));
    EXPECT_TRUE(limiter.allow(ip("::ffff:198.51.100.2"), now));
    EXPECT_TRUE(limiter.allow(ip("::ffff:198.51.100.3"), now));
}

TEST(SourcePrefix, ABanCoversTheWholeSlash64) {
    SourceBanList bans(2, Seconds{60}, Seconds{300}, 3);
    const TimePoint now{};
    using Standing = SourceBanList::Standing;
    EXPECT_FALSE(bans.record_failure(ip("2001:db8:1:2::1"), "u", now).username_ban);
    EXPECT_TRUE(bans.record_failure(ip("2001:db8:1:2::2"), "u", now).username_ban);  // the 2nd
    EXPECT_EQ(bans.standing(ip("2001:db8:1:2::99"), "u", now), Standing::username_banned);
    EXPECT_EQ(bans.standing(ip("2001:db8:1:3::1"), "u", now), Standing::clear);
    EXPECT_TRUE(bans.record_failure(ip("2001:db8:1:2::3"), "v", now).source_throttle);  // the 3rd
    EXPECT_EQ(bans.standing(ip("2001:db8:1:2::4"), "w", now), Standing::source_throttled);
    EXPECT_EQ(bans.standing(ip("2001:db8:1:3::1"), "w", now), Standing::clear);
}

}  // namespace
}  // namespace hearth::turn
