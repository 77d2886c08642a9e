// LogRateLimit: at most N lines a second, and the next line written knows how many were
// left out.

#include "relay/net/log_rate_limit.h"

#include <gtest/gtest.h>

namespace hearth::relay {
namespace {

const turn::TimePoint start = turn::TimePoint{} + std::chrono::hours(1);

TEST(LogRateLimit, WritesAtMostTheRateThenCountsWhatItLeftOut) {
    LogRateLimit limit(3);
    std::uint64_t left_out = 99;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(limit.allow(start, left_out)) << i;
        EXPECT_EQ(left_out, 0u);
    }
    for (int i = 0; i < 5; ++i) {
        EXPECT_FALSE(limit.allow(start + std::chrono::milliseconds(900), left_out)) << i;
    }
    ASSERT_TRUE(limit.allow(start + std::chrono::seconds(1), left_out));
    EXPECT_EQ(left_out, 5u);
    ASSERT_TRUE(limit.allow(start + std::chrono::seconds(1), left_out));
    EXPECT_EQ(left_out, 0u);  // told once
}

}  // namespace
}  // namespace hearth::relay
