#pragma once

// How an allocation's call went over time, for its session record (session_record.h): the
// peak bit rate each way and the lowest quality score, and when. Sampled every
// `sample_interval` by the worker's housekeeping, never per packet: each sample scores
// only the traffic since the one before, so a bad minute in a long call shows as a low
// score instead of being averaged away, and an interval without traffic is not scored.

#include <cstdint>
#include <optional>

#include "relay/turn/clock.h"
#include "relay/turn/direction_counters.h"
#include "relay/turn/media_stats.h"

namespace hearth::turn {

// One direction's totals at a moment, as the track compares them.
struct LegTotals {
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
    std::uint64_t dropped = 0;
    std::uint64_t rtp_expected = 0;
    std::int64_t rtp_lost = 0;
    double jitter_milliseconds = 0;  // RFC 3550 A.8's running estimate: not a difference
};
LegTotals leg_totals(const DirectionCounters& counters, const MediaTotals& media);

class QualityTrack {
  public:
    static constexpr Seconds sample_interval{5};

    // Whether `sample_interval` has passed since the last sample (or the start): asked
    // first, so the totals are read only for a sample.
    bool due(TimePoint now) const { return now - last_sample_ >= sample_interval; }
    // Samples whatever time has passed, at least a millisecond: when due, and for the
    // allocation's last interval at its end.
    void sample_now(const LegTotals& to_peer, const LegTotals& to_client, TimePoint now,
                    std::int64_t unix_ms);

    void start(TimePoint now) { last_sample_ = now; }
    std::uint64_t peak_to_peer_bps() const { return peak_to_peer_bps_; }
    std::uint64_t peak_to_client_bps() const { return peak_to_client_bps_; }
    // The lowest score of an interval that carried traffic; none before one did.
    std::optional<int> lowest_quality() const { return lowest_quality_; }
    std::int64_t lowest_quality_at_unix_ms() const { return lowest_quality_at_unix_ms_; }

  private:
    TimePoint last_sample_{};
    LegTotals to_peer_{};
    LegTotals to_client_{};
    std::uint64_t peak_to_peer_bps_ = 0;
    std::uint64_t peak_to_client_bps_ = 0;
    std::optional<int> lowest_quality_;
    std::int64_t lowest_quality_at_unix_ms_ = 0;
};

}  // namespace hearth::turn
