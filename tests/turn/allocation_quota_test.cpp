#include "relay/turn/allocation_quota.h"

#include <gtest/gtest.h>

#include <memory>

namespace hearth::turn {
namespace {

const TimePoint start = TimePoint{} + std::chrono::hours(1);
constexpr Seconds rejoin_idle{15};

QuotaHolder holder(AllocationId id, TimePoint last_relayed = start) {
    return {id, std::make_shared<RelayActivity>(last_relayed)};
}

TEST(AllocationQuota, PerUserCapThenTotalCap) {
    AllocationQuota quota(3, 2);
    using enum AllocationQuota::Result;
    EXPECT_EQ(quota.acquire("s/a", holder(1), start, rejoin_idle).result, granted);
    EXPECT_EQ(quota.acquire("s/a", holder(2), start, rejoin_idle).result, granted);
    EXPECT_EQ(quota.acquire("s/a", holder(3), start, rejoin_idle).result, user_reached);
    EXPECT_EQ(quota.acquire("s/b", holder(4), start, rejoin_idle).result, granted);
    EXPECT_EQ(quota.acquire("s/c", holder(5), start, rejoin_idle).result, total_reached);
    quota.release("s/a", 1);
    EXPECT_EQ(quota.total(), 2u);
    EXPECT_EQ(quota.acquire("s/c", holder(6), start, rejoin_idle).result, granted);
}

TEST(AllocationQuota, ReleasingAnUnknownUserChangesNothing) {
    AllocationQuota quota(3, 2);
    quota.release("nobody", 1);
    EXPECT_EQ(quota.total(), 0u);
}

TEST(AllocationQuota, TheOldestIdleHolderIsReplacedEvenAtTheNodesCap) {
    AllocationQuota quota(2, 2);
    const auto younger = std::make_shared<RelayActivity>(start);
    ASSERT_EQ(quota.acquire("s/a", {1, younger}, start, rejoin_idle).result,
              AllocationQuota::Result::granted);
    ASSERT_EQ(quota.acquire("s/a", holder(2, start - Seconds{5}), start, rejoin_idle).result,
              AllocationQuota::Result::granted);
    const auto later = start + rejoin_idle + Seconds{5};
    const auto admission = quota.acquire("s/a", holder(3, later), later, rejoin_idle);
    EXPECT_EQ(admission.result, AllocationQuota::Result::replaced);
    EXPECT_EQ(admission.replaced, 2u);
    EXPECT_EQ(quota.total(), 2u);
    quota.release("s/a", 2);  // the replaced one's own delete: its slot is already taken
    EXPECT_EQ(quota.total(), 2u);

    younger->note_relayed(later);  // 1 active, 3 new: nothing to replace, the node is full
    EXPECT_EQ(quota.acquire("s/a", holder(4, later), later, rejoin_idle).result,
              AllocationQuota::Result::total_reached);
    quota.set_limits(3, 2);
    EXPECT_EQ(quota.acquire("s/a", holder(5, later), later, rejoin_idle).result,
              AllocationQuota::Result::user_reached);
}

// The session's cap: a rejoin takes the user's oldest idle holder out of the cap; the
// holder's own release later says its session-store slot went with it.
TEST(AllocationQuota, AnIdleHolderIsHandedOverOnceAndItsSessionSlotWithIt) {
    AllocationQuota quota(10, 8);
    const auto later = start + rejoin_idle;
    ASSERT_EQ(quota.acquire("s/a", holder(1), start, rejoin_idle).result,
              AllocationQuota::Result::granted);
    ASSERT_EQ(quota.acquire("s/a", holder(2, start + Seconds{1}), start, rejoin_idle).result,
              AllocationQuota::Result::granted);
    EXPECT_TRUE(quota.has_idle("s/a", later, rejoin_idle));
    EXPECT_FALSE(quota.has_idle("s/b", later, rejoin_idle));
    EXPECT_FALSE(quota.has_idle("s/a", later, Seconds{0}));  // rejoin off

    EXPECT_EQ(quota.hand_over_idle("s/a", later, rejoin_idle), AllocationId{1});
    EXPECT_EQ(quota.total(), 1u);
    // A second rejoin at the same moment does not get the same one; 2 is not idle yet.
    EXPECT_EQ(quota.hand_over_idle("s/a", later, rejoin_idle), std::nullopt);
    EXPECT_FALSE(quota.has_idle("s/a", later, rejoin_idle));
    EXPECT_EQ(quota.hand_over_idle("s/a", later + Seconds{1}, rejoin_idle), AllocationId{2});

    EXPECT_EQ(quota.release("s/a", 1), AllocationQuota::SessionSlot::handed_over);
    EXPECT_EQ(quota.release("s/a", 2), AllocationQuota::SessionSlot::handed_over);
    EXPECT_EQ(quota.total(), 0u);
    // Once: a later release of the same id (none happens) would give back again.
    EXPECT_EQ(quota.release("s/a", 1), AllocationQuota::SessionSlot::give_back);
}

TEST(AllocationQuota, APerUserReplacementLeavesTheSessionSlotToGiveBack) {
    AllocationQuota quota(10, 1);
    ASSERT_EQ(quota.acquire("s/a", holder(1), start, rejoin_idle).result,
              AllocationQuota::Result::granted);
    const auto later = start + rejoin_idle;
    ASSERT_EQ(quota.acquire("s/a", holder(2, later), later, rejoin_idle).result,
              AllocationQuota::Result::replaced);
    EXPECT_EQ(quota.release("s/a", 1), AllocationQuota::SessionSlot::give_back);
    EXPECT_EQ(quota.release("s/a", 2), AllocationQuota::SessionSlot::give_back);
    EXPECT_EQ(quota.total(), 0u);
}

}  // namespace
}  // namespace hearth::turn
