#include "relay/turn/allocation_quota.h"

#include <gtest/gtest.h>

namespace hearth::turn {
namespace {

TEST(AllocationQuota, PerUserCapThenTotalCap) {
    AllocationQuota quota(3, 2);
    EXPECT_EQ(quota.acquire("s/a"), AllocationQuota::Result::granted);
    EXPECT_EQ(quota.acquire("s/a"), AllocationQuota::Result::granted);
    EXPECT_EQ(quota.acquire("s/a"), AllocationQuota::Result::user_reached);
    EXPECT_EQ(quota.acquire("s/b"), AllocationQuota::Result::granted);
    EXPECT_EQ(quota.acquire("s/c"), AllocationQuota::Result::total_reached);
    quota.release("s/a");
    EXPECT_EQ(quota.total(), 2u);
    EXPECT_EQ(quota.acquire("s/c"), AllocationQuota::Result::granted);
}

TEST(AllocationQuota, ReleasingAnUnknownUserChangesNothing) {
    AllocationQuota quota(3, 2);
    quota.release("nobody");
    EXPECT_EQ(quota.total(), 0u);
}

}  // namespace
}  // namespace hearth::turn
