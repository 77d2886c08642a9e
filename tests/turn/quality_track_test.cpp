// The quality track: the peak bit rate each way over one sample interval, and the lowest
// quality score of an interval that carried traffic, with when.

#include "relay/turn/quality_track.h"

#include <gtest/gtest.h>

namespace hearth::turn {
namespace {

constexpr auto interval = QualityTrack::sample_interval;

// `bytes` in `packets`, with `expected` and `lost` RTP packets, cumulative.
LegTotals leg(std::uint64_t bytes, std::uint64_t packets, std::uint64_t expected = 0,
              std::int64_t lost = 0, std::uint64_t dropped = 0) {
    LegTotals totals;
    totals.bytes = bytes;
    totals.packets = packets;
    totals.rtp_expected = expected;
    totals.rtp_lost = lost;
    totals.dropped = dropped;
    return totals;
}

class QualityTrackTest : public ::testing::Test {
  protected:
    TimePoint start = TimePoint{} + std::chrono::hours(1);
    QualityTrack track;
    void SetUp() override { track.start(start); }
    // What the worker's housekeeping does every second (TurnServer::expire).
    void sample_if_due(const LegTotals& to_peer, const LegTotals& to_client, TimePoint now,
                       std::int64_t unix_ms) {
        if (track.due(now)) {
            track.sample_now(to_peer, to_client, now, unix_ms);
        }
    }
};

TEST_F(QualityTrackTest, ThePeakIsTheBusiestIntervalEachWay) {
    // 5 s at 8 kbit/s up, then 5 s at 80 kbit/s up, 16 kbit/s down, then quiet.
    sample_if_due(leg(5'000, 50), leg(0, 0), start + interval, 1000);
    sample_if_due(leg(55'000, 100), leg(10'000, 50), start + 2 * interval, 2000);
    sample_if_due(leg(55'000, 100), leg(10'000, 50), start + 3 * interval, 3000);
    EXPECT_EQ(track.peak_to_peer_bps(), 80'000u);
    EXPECT_EQ(track.peak_to_client_bps(), 16'000u);
}

TEST_F(QualityTrackTest, NoSampleIsTakenBeforeTheIntervalHasPassed) {
    sample_if_due(leg(5'000, 50), leg(0, 0), start + interval - std::chrono::seconds(1), 1);
    EXPECT_EQ(track.peak_to_peer_bps(), 0u);
    EXPECT_FALSE(track.lowest_quality());
}

TEST_F(QualityTrackTest, TheLowestScoreIsTheWorstIntervalsAndWhenItWasTaken) {
    // A clean interval, one with 10 % loss, a clean one again: cumulatively the loss is
    // 3 %, but the bad interval is what the record keeps.
    sample_if_due(leg(10'000, 100, 100, 0), leg(0, 0), start + interval, 1000);
    sample_if_due(leg(20'000, 190, 200, 10), leg(0, 0), start + 2 * interval, 2000);
    sample_if_due(leg(30'000, 290, 300, 10), leg(0, 0), start + 3 * interval, 3000);
    ASSERT_TRUE(track.lowest_quality());
    EXPECT_EQ(*track.lowest_quality(), 40);  // quality_score: 10 % loss costs 60
    EXPECT_EQ(track.lowest_quality_at_unix_ms(), 2000);
}

TEST_F(QualityTrackTest, AnIntervalWithoutTrafficIsNotScored) {
    sample_if_due(leg(0, 0), leg(0, 0), start + interval, 1000);
    EXPECT_FALSE(track.lowest_quality());
    // Drops alone are traffic: everything dropped scores the drop penalty.
    sample_if_due(leg(0, 0, 0, 0, 10), leg(0, 0), start + 2 * interval, 2000);
    ASSERT_TRUE(track.lowest_quality());
    EXPECT_EQ(*track.lowest_quality(), 85);
}

TEST_F(QualityTrackTest, TheLastSampleCoversWhatIsLeftAtTheEnd) {
    track.sample_now(leg(1'000, 10), leg(0, 0), start + std::chrono::milliseconds(500), 500);
    EXPECT_EQ(track.peak_to_peer_bps(), 16'000u);
    EXPECT_EQ(track.lowest_quality(), 100);
}

}  // namespace
}  // namespace hearth::turn
