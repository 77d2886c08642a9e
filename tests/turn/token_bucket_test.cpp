// Token buckets for relayed bandwidth: the rate holds over time, a burst is allowed up to
// half a second's worth, and the shared bucket behaves like the plain one.

#include "relay/turn/token_bucket.h"

#include <gtest/gtest.h>

#include "relay/turn/allocation.h"
#include "relay/turn/session_budgets.h"

namespace hearth::turn {
namespace {

const TimePoint start = TimePoint{} + std::chrono::hours(1);
constexpr std::uint64_t one_megabit = 1'000'000;

// Bytes of 1000-byte packets a bucket lets through when offered one every millisecond
// (8 Mbit/s offered) for `seconds`.
template <typename Bucket>
std::size_t passed_over(Bucket& bucket, int seconds) {
    std::size_t bytes = 0;
    for (int ms = 1; ms <= seconds * 1000; ++ms) {
        if (bucket.take(1000, start + std::chrono::milliseconds(ms))) {
            bytes += 1000;
        }
    }
    return bytes;
}

TEST(TokenBucket, ZeroRateIsNoLimit) {
    TokenBucket bucket(0, start);
    EXPECT_TRUE(bucket.take(1'000'000, start));
    TokenBucket unset;
    EXPECT_TRUE(unset.take(1'000'000, start));
}

TEST(TokenBucket, HoldsTheRateOverTime) {
    TokenBucket bucket(one_megabit, start);
    const auto bytes = passed_over(bucket, 10);
    // 10 s at 1 Mbit/s plus the half-second burst: 1.3125 MB; 8 Mbit/s were offered.
    EXPECT_GE(bytes, 1'300'000u);
    EXPECT_LE(bytes, 1'320'000u);
}

TEST(TokenBucket, AllowsHalfASecondOfBurstThenRefuses) {
    TokenBucket bucket(one_megabit, start);
    std::size_t burst = 0;
    while (bucket.take(1000, start)) {
        burst += 1000;
    }
    EXPECT_EQ(burst, 62'000u);  // 500 kbit = 62.5 kB, in whole packets
    EXPECT_FALSE(bucket.take(1000, start + std::chrono::milliseconds(1)));
    EXPECT_TRUE(bucket.take(1000, start + std::chrono::milliseconds(9)));
}

TEST(TokenBucket, SavesNoMoreThanTheBurstWhileIdle) {
    TokenBucket bucket(one_megabit, start);
    const TimePoint later = start + std::chrono::hours(5);
    std::size_t burst = 0;
    while (bucket.take(1000, later)) {
        burst += 1000;
    }
    EXPECT_EQ(burst, 62'000u);
}

TEST(TokenBucket, GrantsWhatItHoldsOfAStreamAndNoMore) {
    TokenBucket bucket(one_megabit, start);
    EXPECT_EQ(bucket.grant(100'000, start), 62'500u);  // the whole burst, not the request
    EXPECT_EQ(bucket.grant(100'000, start), 0u);
    // 10 ms at 1 Mbit/s earns 1250 bytes.
    EXPECT_EQ(bucket.grant(100'000, start + std::chrono::milliseconds(10)), 1250u);
    bucket.give_back(1000);
    EXPECT_EQ(bucket.grant(5000, start + std::chrono::milliseconds(10)), 1000u);
    TokenBucket unlimited(0, start);
    EXPECT_EQ(unlimited.grant(100'000, start), 100'000u);
}

TEST(SharedTokenBucket, GrantsLikeThePlainBucket) {
    SharedTokenBucket shared(one_megabit, start);
    EXPECT_EQ(shared.grant(100'000, start), 62'500u);
    EXPECT_EQ(shared.grant(100'000, start), 0u);
    EXPECT_EQ(shared.grant(100'000, start + std::chrono::milliseconds(10)), 1250u);
}

TEST(SharedTokenBucket, HoldsTheSameRateAsThePlainBucket) {
    SharedTokenBucket shared(one_megabit, start);
    TokenBucket plain(one_megabit, start);
    EXPECT_EQ(passed_over(shared, 10), passed_over(plain, 10));
}

TEST(SessionBudgets, AllocationsOfOneSessionShareOneBudget) {
    SessionBudgets budgets(one_megabit);
    const auto first = budgets.budget_for("th-1", start);
    const auto second = budgets.budget_for("th-1", start);
    const auto other = budgets.budget_for("th-2", start);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first, second);
    EXPECT_NE(first, other);
    while (first->client_to_peer.take(1000, start)) {
    }
    EXPECT_FALSE(second->client_to_peer.take(1000, start));
    EXPECT_TRUE(other->client_to_peer.take(1000, start));
}

TEST(SessionBudgets, ABudgetEndsWithItsLastAllocation) {
    SessionBudgets budgets(one_megabit);
    auto budget = budgets.budget_for("th-1", start);
    while (budget->client_to_peer.take(1000, start)) {
    }
    budget.reset();
    EXPECT_TRUE(budgets.budget_for("th-1", start)->client_to_peer.take(1000, start));
}

TEST(SessionBudgets, ZeroRateGivesNoBudget) {
    SessionBudgets budgets(0);
    EXPECT_EQ(budgets.budget_for("th-1", start), nullptr);
}

TEST(AllocationBudgets, APacketTheSessionRefusesCostsTheAllocationNothing) {
    Allocation allocation(1, FiveTuple{}, Owner{}, 4, 4);
    allocation.client_to_peer_budget = TokenBucket(one_megabit, start);
    allocation.session_budget = std::make_shared<SessionBudget>(one_megabit, start);
    while (allocation.session_budget->client_to_peer.take(1000, start)) {
    }
    EXPECT_FALSE(allocation.within_client_to_peer_budget(1000, start));
    // The allocation's own bucket still holds its whole burst (62.5 kB).
    allocation.session_budget.reset();
    std::size_t passed = 0;
    while (allocation.within_client_to_peer_budget(1000, start)) {
        passed += 1000;
    }
    EXPECT_EQ(passed, 62'000u);
}

// The fast path (relay/xdp) is granted bytes ahead and gives back what it did not spend:
// both buckets of the direction get them back, never past their burst.
TEST(AllocationBudgets, BytesGrantedAheadAndNotSpentGoBackToBothBuckets) {
    Allocation allocation(1, FiveTuple{}, Owner{}, 4, 4);
    allocation.client_to_peer_budget = TokenBucket(one_megabit, start);
    allocation.session_budget = std::make_shared<SessionBudget>(one_megabit, start);
    EXPECT_EQ(allocation.grant_client_to_peer(1'000'000, start), 62'500u) << "the burst";
    EXPECT_FALSE(allocation.within_client_to_peer_budget(1000, start));
    allocation.give_back_client_to_peer(50'000);
    EXPECT_TRUE(allocation.within_client_to_peer_budget(50'000, start));
    EXPECT_FALSE(allocation.within_client_to_peer_budget(1000, start));
    allocation.give_back_client_to_peer(1'000'000);  // more than was ever taken
    EXPECT_EQ(allocation.grant_client_to_peer(1'000'000, start), 62'500u) << "capped at the burst";
}

}  // namespace
}  // namespace hearth::turn
