#include "relay/net/descriptor_limit.h"

#include <gtest/gtest.h>

namespace hearth::relay {
namespace {

TEST(AllocationsWithin, AUdpOnlyNodeSpendsOneDescriptorPerAllocation) {
    // This machine's hard limit: 20 000, about 100 open at start plus 64 of headroom.
    EXPECT_EQ(allocations_within(20'000, 164, 0), 19'836u);
}

TEST(AllocationsWithin, StreamConnectionsAreSetAsideUpToHalf) {
    EXPECT_EQ(allocations_within(20'000, 0, 1'000), 19'000u);
    // limits.max_connections' default (10 000) against 20 000: half for each.
    EXPECT_EQ(allocations_within(20'000, 0, 10'000), 10'000u);
    EXPECT_EQ(allocations_within(20'000, 0, 1'000'000), 10'000u);
}

TEST(AllocationsWithin, NothingFitsWhenTheReserveTakesEverything) {
    EXPECT_EQ(allocations_within(100, 100, 0), 0u);
    EXPECT_EQ(allocations_within(100, 200, 10), 0u);
    EXPECT_EQ(allocations_within(101, 100, 10), 1u);
}

}  // namespace
}  // namespace hearth::relay
