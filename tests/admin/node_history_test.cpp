// The admin page's history: a fixed ring, and samples taken as differences between the
// workers' snapshots, with the time given.

#include "admin/node_history.h"

#include <gtest/gtest.h>

namespace hearth::admin {
namespace {

relay::AllocationSnapshot allocation(turn::AllocationId id, std::uint64_t up_bytes,
                                     std::uint64_t expected, std::int64_t lost, int quality) {
    relay::AllocationSnapshot entry;
    entry.id = id;
    entry.client_to_peer.bytes = up_bytes;
    entry.peer_to_client.bytes = up_bytes / 2;
    entry.client_to_peer_media.rtp_expected = expected;
    entry.client_to_peer_media.rtp_lost = lost;
    entry.quality = quality;
    return entry;
}

std::vector<relay::WorkerSnapshot> one_worker(std::vector<relay::AllocationSnapshot> live) {
    relay::WorkerSnapshot worker;
    worker.allocations = std::move(live);
    return {worker};
}

TEST(HistoryRing, KeepsTheNewestCapacitySamplesOldestFirst) {
    HistoryRing ring;
    EXPECT_TRUE(ring.samples().empty());
    const std::size_t pushed = HistoryRing::capacity * 2 + 7;
    for (std::size_t i = 0; i < pushed; ++i) {
        HistorySample sample;
        sample.unix_ms = static_cast<std::int64_t>(i);
        ring.push(sample);
        ASSERT_LE(ring.size(), HistoryRing::capacity);
    }
    const auto samples = ring.samples();
    ASSERT_EQ(samples.size(), HistoryRing::capacity);
    EXPECT_EQ(samples.front().unix_ms, static_cast<std::int64_t>(pushed - HistoryRing::capacity));
    EXPECT_EQ(samples.back().unix_ms, static_cast<std::int64_t>(pushed - 1));
}

TEST(HistoryRing, HoldsFifteenMinutesAtItsInterval) {
    EXPECT_EQ(HistoryRing::capacity * NodeHistory::interval_ms, 15 * 60 * 1000);
}

TEST(NodeHistory, FirstReadingIsOnlyTheBaseline) {
    NodeHistory history;
    history.record(one_worker({allocation(1, 1000, 100, 0, 90)}), 0);
    EXPECT_EQ(history.ring().size(), 0U);
}

TEST(NodeHistory, RatesAndLossAreThoseOfTheInterval) {
    NodeHistory history;
    history.record(one_worker({allocation(1, 10'000, 100, 0, 100)}), 0);
    // 5 s later: 50 000 bytes more up (80 kbit/s), 25 000 down; 200 expected, 10 lost.
    history.record(one_worker({allocation(1, 60'000, 300, 10, 80)}), 5000);
    const auto samples = history.ring().samples();
    ASSERT_EQ(samples.size(), 1U);
    EXPECT_EQ(samples[0].unix_ms, 5000);
    EXPECT_EQ(samples[0].to_peer_bps, 80'000U);
    EXPECT_EQ(samples[0].to_client_bps, 40'000U);
    ASSERT_TRUE(samples[0].loss_fraction.has_value());
    EXPECT_DOUBLE_EQ(*samples[0].loss_fraction, 0.05);
    EXPECT_EQ(samples[0].allocations, 1U);
    EXPECT_DOUBLE_EQ(samples[0].mean_quality.value_or(-1), 80);
    EXPECT_EQ(samples[0].lowest_quality.value_or(-1), 80);
}

TEST(NodeHistory, NewAllocationCountsFromZeroAndQualityIsMeanAndLowest) {
    NodeHistory history;
    history.record(one_worker({allocation(1, 0, 100, 5, 100)}), 0);
    history.record(one_worker({allocation(1, 0, 100, 5, 90), allocation(2, 0, 50, 25, 40)}), 5000);
    const auto sample = history.ring().samples().back();
    ASSERT_TRUE(sample.loss_fraction.has_value());
    EXPECT_DOUBLE_EQ(*sample.loss_fraction, 0.5);  // allocation 1 expected nothing new
    EXPECT_DOUBLE_EQ(sample.mean_quality.value_or(-1), 65);
    EXPECT_EQ(sample.lowest_quality.value_or(-1), 40);
}

TEST(NodeHistory, IdleNodeHasNoLossAndNoQuality) {
    NodeHistory history;
    history.record(one_worker({}), 0);
    history.record(one_worker({}), 5000);
    const auto sample = history.ring().samples().back();
    EXPECT_EQ(sample.to_peer_bps, 0U);
    EXPECT_FALSE(sample.loss_fraction.has_value());
    EXPECT_FALSE(sample.mean_quality.has_value());
    EXPECT_FALSE(sample.lowest_quality.has_value());
}

TEST(NodeHistory, EndedAllocationsTrafficStillCountsThroughTheRetiredTotals) {
    NodeHistory history;
    history.record(one_worker({allocation(1, 10'000, 0, 0, 100)}), 0);
    auto workers = one_worker({});
    // The allocation ended with 20 000 bytes up: its worker keeps them as retired.
    workers[0].counters.retired_client_to_peer[0].bytes = 20'000;
    history.record(workers, 5000);
    EXPECT_EQ(history.ring().samples().back().to_peer_bps, 16'000U);
}

TEST(NodeHistory, DuplicatesDoNotMakeNegativeLoss) {
    NodeHistory history;
    history.record(one_worker({allocation(1, 0, 100, 0, 100)}), 0);
    history.record(one_worker({allocation(1, 0, 200, -3, 100)}), 5000);
    EXPECT_DOUBLE_EQ(history.ring().samples().back().loss_fraction.value_or(-1), 0);
}

TEST(NodeHistory, RingNeverGrowsPastItsCapacity) {
    NodeHistory history;
    for (std::int64_t tick = 0; tick < 500; ++tick) {
        history.record(
            one_worker({allocation(1, static_cast<std::uint64_t>(tick) * 100, 0, 0, 100)}),
            tick * NodeHistory::interval_ms);
    }
    EXPECT_EQ(history.ring().size(), HistoryRing::capacity);
    EXPECT_EQ(history.ring().samples().back().unix_ms, 499 * NodeHistory::interval_ms);
}

}  // namespace
}  // namespace hearth::admin
