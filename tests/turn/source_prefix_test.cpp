#include "relay/turn/source_prefix.h"

#include <gtest/gtest.h>

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
    // A dual-stack socket's view of an IPv4 client: not one /64 for the whole IPv4 internet.
    EXPECT_EQ(source_prefix(ip("::ffff:198.51.100.7")), ip("::ffff:198.51.100.7"));
    // Nor for every IPv4 host behind a NAT64 gateway.
    EXPECT_EQ(source_prefix(ip("64:ff9b::198.51.100.7")), ip("64:ff9b::198.51.100.7"));
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
