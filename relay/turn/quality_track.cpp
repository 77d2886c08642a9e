#include "relay/turn/quality_track.h"

#include <algorithm>

namespace hearth::turn {

namespace {

std::uint64_t bits_per_second(std::uint64_t bytes, TimePoint::duration elapsed) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    return micros <= 0 ? 0 : bytes * 8 * 1'000'000 / static_cast<std::uint64_t>(micros);
}

}  // namespace

LegTotals leg_totals(const DirectionCounters& counters, const MediaTotals& media) {
    return LegTotals{counters.bytes,     counters.packets, counters.dropped(),
                     media.rtp_expected, media.rtp_lost,   media.jitter_milliseconds};
}

void QualityTrack::sample_now(const LegTotals& to_peer, const LegTotals& to_client, TimePoint now,
                              std::int64_t unix_ms) {
    const auto elapsed =
        std::max<TimePoint::duration>(now - last_sample_, std::chrono::milliseconds(1));
    peak_to_peer_bps_ =
        std::max(peak_to_peer_bps_, bits_per_second(to_peer.bytes - to_peer_.bytes, elapsed));
    peak_to_client_bps_ =
        std::max(peak_to_client_bps_, bits_per_second(to_client.bytes - to_client_.bytes, elapsed));

    const std::uint64_t packets =
        (to_peer.packets - to_peer_.packets) + (to_client.packets - to_client_.packets);
    const std::uint64_t dropped =
        (to_peer.dropped - to_peer_.dropped) + (to_client.dropped - to_client_.dropped);
    if (packets + dropped > 0) {
        const std::uint64_t expected = (to_peer.rtp_expected - to_peer_.rtp_expected) +
                                       (to_client.rtp_expected - to_client_.rtp_expected);
        // A late packet can lower the lost count: an interval never counts less than none.
        const std::int64_t lost = std::max<std::int64_t>(
            0, (to_peer.rtp_lost - to_peer_.rtp_lost) + (to_client.rtp_lost - to_client_.rtp_lost));
        const int score = quality_of(
            expected, lost, std::max(to_peer.jitter_milliseconds, to_client.jitter_milliseconds),
            packets, dropped);
        if (!lowest_quality_ || score < *lowest_quality_) {
            lowest_quality_ = score;
            lowest_quality_at_unix_ms_ = unix_ms;
        }
    }
    last_sample_ = now;
    to_peer_ = to_peer;
    to_client_ = to_client;
}

}  // namespace hearth::turn
