// RFC 3550 Appendix A.1/A.3/A.8 accounting as a relay sees it, on hand-made RTP headers.

#include "relay/turn/media_stats.h"

#include <gtest/gtest.h>

#include <vector>

namespace hearth::turn {
namespace {

using namespace std::chrono_literals;

std::array<std::byte, 20> rtp(std::uint16_t sequence, std::uint32_t timestamp,
                              std::uint32_t ssrc = 0x11223344, std::uint8_t payload_type = 111) {
    std::array<std::byte, 20> packet{};
    packet[0] = std::byte{0x80};
    packet[1] = static_cast<std::byte>(payload_type);
    packet[2] = static_cast<std::byte>(sequence >> 8);
    packet[3] = static_cast<std::byte>(sequence);
    for (int i = 0; i < 4; ++i) {
        packet[4 + i] = static_cast<std::byte>(timestamp >> (24 - 8 * i));
        packet[8 + i] = static_cast<std::byte>(ssrc >> (24 - 8 * i));
    }
    return packet;
}

// Feeds sequence numbers 20 ms apart with a 48 kHz clock (960 ticks a packet).
MediaTotals feed(const std::vector<std::uint16_t>& sequences, LegStats& leg) {
    TimePoint arrival = TimePoint{} + 1h;
    for (std::size_t i = 0; i < sequences.size(); ++i) {
        const auto packet = rtp(sequences[i], sequences[i] * 960u);
        leg.observe(packet, arrival);
        arrival += 20ms;
    }
    return leg.media();
}

TEST(RtpAccounting, CountsLossReorderingDuplicatesAndWraps) {
    const struct {
        const char* name;
        std::vector<std::uint16_t> sequences;
        std::uint64_t expected;
        std::int64_t lost;
    } cases[] = {
        {"in order", {1, 2, 3, 4, 5}, 5, 0},
        {"two lost", {1, 2, 5, 6}, 6, 2},
        {"reordered", {1, 3, 2, 4}, 4, 0},
        {"duplicate", {1, 2, 2, 3}, 3, 0},  // A.3: duplicates count as received
        {"wraps past 65535", {65534, 65535, 0, 1}, 4, 0},
        {"loss across the wrap", {65534, 65535, 1, 2}, 5, 1},
        // Every first sequence number is a start like any other, 0 and 65535 included.
        {"starts at 0", {0, 1, 2, 3}, 4, 0},
        {"starts at 0 with a loss", {0, 1, 3}, 4, 1},
        {"starts at 65535", {65535, 0, 1}, 3, 0},
        {"starts at 65535 and loses the wrap", {65535, 1, 2}, 4, 1},
        {"starts at 0, the next reordered", {0, 2, 1, 3}, 4, 0},
        {"starts at 1, reordered before it", {1, 0, 2}, 2, 0},
    };
    for (const auto& test : cases) {
        LegStats leg;
        const auto totals = feed(test.sequences, leg);
        EXPECT_EQ(totals.rtp_expected, test.expected) << test.name;
        EXPECT_EQ(std::max<std::int64_t>(totals.rtp_lost, 0), test.lost) << test.name;
        EXPECT_EQ(totals.sources, 1u) << test.name;
    }
}

TEST(RtpAccounting, ARestartedStreamStartsOver) {
    LegStats leg;
    // A jump of 30000 once is ignored; when the next packet follows it, A.1 restarts.
    const auto totals = feed({1, 2, 3, 30000, 30001, 30002}, leg);
    EXPECT_EQ(totals.rtp_expected, 2u);
    EXPECT_EQ(totals.rtp_lost, 0);
}

TEST(RtpAccounting, IgnoresRtcpAndNonRtp) {
    LegStats leg;
    const TimePoint now = TimePoint{} + 1h;
    leg.observe(rtp(1, 0, 1, 200), now);  // RTCP sender report (PT 200)
    std::array<std::byte, 20> dtls{};
    dtls[0] = std::byte{22};
    leg.observe(dtls, now);
    EXPECT_EQ(leg.media().sources, 0u);
}

TEST(RtpAccounting, SeparatesSourcesAndBoundsThem) {
    LegStats leg;
    const TimePoint now = TimePoint{} + 1h;
    for (std::uint32_t ssrc = 1; ssrc <= LegStats::max_sources + 2; ++ssrc) {
        leg.observe(rtp(1, 0, ssrc), now);
    }
    EXPECT_EQ(leg.media().sources, LegStats::max_sources);
    EXPECT_EQ(leg.untracked_rtp(), 2u);
}

TEST(RtpJitter, SteadyPacketsHaveNoJitterAndTheClockIsFound) {
    LegStats leg;
    std::vector<std::uint16_t> sequences;
    for (std::uint16_t i = 1; i <= 150; ++i) {
        sequences.push_back(i);  // three seconds at 50 packets a second
    }
    const auto totals = feed(sequences, leg);
    EXPECT_LT(totals.jitter_milliseconds, 0.5);
}

TEST(RtpJitter, AlternatingDelayShowsAsJitter) {
    LegStats leg;
    TimePoint arrival = TimePoint{} + 1h;
    for (std::uint16_t i = 1; i <= 300; ++i) {
        // Every other packet 10 ms late: |D| = 10 ms, so J converges towards 10 ms.
        const auto late = (i % 2 == 0) ? 10ms : 0ms;
        leg.observe(rtp(i, i * 960u), arrival + late);
        arrival += 20ms;
    }
    EXPECT_NEAR(leg.media().jitter_milliseconds, 10.0, 1.0);
}

TEST(RateMeter, AveragesTheLastFullSeconds) {
    RateMeter meter;
    for (std::int64_t second = 100; second < 110; ++second) {
        meter.add(125000, second);  // 1 Mbit each second
    }
    EXPECT_EQ(meter.bits_per_second(110), 1'000'000u);
    EXPECT_EQ(meter.bits_per_second(120), 0u);  // nothing for a while: no rate
}

TEST(QualityScore, FallsWithLossJitterAndDrops) {
    EXPECT_EQ(quality_score(0, 0, 0), 100);
    EXPECT_EQ(quality_score(0.05, 0, 0), 70);
    EXPECT_EQ(quality_score(0, 70, 0), 75);
    EXPECT_EQ(quality_score(0, 0, 0.05), 85);
    EXPECT_EQ(quality_score(0.5, 500, 0.5), 0);
}

TEST(RtpAccounting, AStreamThatRestartsIsCountedFromItsRestart) {
    // RFC 3550 A.1: a jump too large for reordering or loss, confirmed by the next
    // packet, is a restarted sender (a new encoder, a renegotiation): counted afresh from
    // that confirming packet, as if it were the first.
    LegStats leg;
    const auto totals = feed({100, 101, 102, 40000, 40001, 40002, 40004}, leg);
    EXPECT_EQ(totals.rtp_expected, 4u);  // 40001..40004
    EXPECT_EQ(totals.rtp_lost, 1);       // 40003
    LegStats at_zero;
    const auto restarted_at_zero = feed({30000, 30001, 0, 1, 2}, at_zero);
    EXPECT_EQ(restarted_at_zero.rtp_expected, 2u);  // 1..2
    EXPECT_EQ(restarted_at_zero.rtp_lost, 0);
    // A lone stray packet far off is not a restart: the stream goes on.
    LegStats stray;
    const auto after_stray = feed({10, 11, 50000, 12, 13}, stray);
    EXPECT_EQ(after_stray.rtp_expected, 4u);
    EXPECT_EQ(after_stray.rtp_lost, 0);
}

}  // namespace
}  // namespace hearth::turn
