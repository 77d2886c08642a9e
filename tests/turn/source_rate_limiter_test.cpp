#include "relay/turn/source_rate_limiter.h"

#include <gtest/gtest.h>

namespace hearth::turn {
namespace {

TEST(SourceRateLimiter, AllowsABurstThenRefillsAtTheRate) {
    SourceRateLimiter limiter(5);
    const auto source = *IpAddress::parse("198.51.100.1");
    const TimePoint start{};
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(limiter.allow(source, start)) << i;
    }
    EXPECT_FALSE(limiter.allow(source, start));
    EXPECT_EQ(limiter.refused(), 1u);
    EXPECT_TRUE(limiter.allow(source, start + std::chrono::milliseconds(200)));
    EXPECT_FALSE(limiter.allow(source, start + std::chrono::milliseconds(200)));
}

TEST(SourceRateLimiter, SourcesHaveTheirOwnBuckets) {
    SourceRateLimiter limiter(1);
    const TimePoint now{};
    EXPECT_TRUE(limiter.allow(*IpAddress::parse("198.51.100.1"), now));
    EXPECT_FALSE(limiter.allow(*IpAddress::parse("198.51.100.1"), now));
    EXPECT_TRUE(limiter.allow(*IpAddress::parse("198.51.100.2"), now));
    EXPECT_TRUE(limiter.allow(*IpAddress::parse("2001:db8::1"), now));
}

TEST(SourceRateLimiter, ZeroDisablesTheLimit) {
    SourceRateLimiter limiter(0);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(limiter.allow(*IpAddress::parse("198.51.100.1"), TimePoint{}));
    }
}

TEST(SourceRateLimiter, ManyMoreSourcesThanSlotsEachGetTheirBurst) {
    // The table is fixed; a source evicted by newer ones starts again with a full bucket.
    SourceRateLimiter limiter(1);
    for (std::uint32_t i = 0; i < 100000; ++i) {
        ASSERT_TRUE(limiter.allow(IpAddress::v4(0x0A000000u + i), TimePoint{})) << i;
    }
    EXPECT_EQ(limiter.refused(), 0u);
}

}  // namespace
}  // namespace hearth::turn
