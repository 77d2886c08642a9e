#pragma once

// Per-leg media statistics an allocation keeps for each direction: the bit rate over a
// sliding window, and, for relayed RTP, RFC 3550 sequence accounting (A.1, A.3) and
// interarrival jitter (A.8) per SSRC. The payload is SRTP, but the RTP header is clear,
// so this is the loss and jitter between the sender and the relay, leg by leg.
// Fixed-size state: nothing here allocates, locks or logs.

#include <algorithm>
#include <array>
#include <cstdint>

#include "relay/stun/message.h"
#include "relay/turn/clock.h"

namespace hearth::turn {

// Whole seconds of the monotonic clock, the unit the rate meter counts in.
inline std::int64_t second_of(TimePoint time) {
    return std::chrono::duration_cast<Seconds>(time.time_since_epoch()).count();
}

// Bytes per second over the last `window_seconds` full seconds.
class RateMeter {
  public:
    static constexpr std::size_t window_seconds = 5;
    void add(std::size_t bytes, std::int64_t second);
    std::uint64_t bits_per_second(std::int64_t now_second) const;

  private:
    std::array<std::uint64_t, window_seconds + 1> bytes_{};
    std::array<std::int64_t, window_seconds + 1> second_{};
};

// One RTP source (RFC 3550 Appendix A.1 and A.8).
class RtpSource {
  public:
    void start(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
               TimePoint arrival);
    void update(std::uint16_t sequence, std::uint32_t timestamp, TimePoint arrival);

    std::uint32_t ssrc() const { return ssrc_; }
    std::uint64_t received() const { return received_; }
    std::uint64_t expected() const;
    std::int64_t lost() const { return static_cast<std::int64_t>(expected()) - received_; }
    double jitter_milliseconds() const;
    std::uint32_t clock_rate() const { return clock_rate_; }

  private:
    void restart(std::uint16_t sequence);
    void count(std::uint32_t timestamp, TimePoint arrival);
    void estimate_clock_rate(std::uint32_t timestamp, TimePoint arrival);

    std::uint32_t ssrc_ = 0;
    std::uint16_t max_sequence_ = 0;
    std::uint32_t cycles_ = 0;  // shifted count of sequence wraps
    std::uint32_t base_sequence_ = 0;
    std::uint32_t bad_sequence_ = 0;
    std::uint64_t received_ = 0;
    // Jitter in RTP timestamp units (A.8), once the clock rate is known.
    double jitter_ = 0;
    std::int64_t last_transit_ = 0;
    bool has_transit_ = false;
    // The clock rate is not in the header: it is measured from the first second of
    // packets and snapped to the rates WebRTC uses.
    std::uint32_t clock_rate_ = 0;
    std::uint32_t first_timestamp_ = 0;
    TimePoint first_arrival_{};
};

struct MediaTotals {
    std::uint64_t rtp_expected = 0;
    std::uint64_t rtp_received = 0;
    std::int64_t rtp_lost = 0;
    double jitter_milliseconds = 0;  // the worst source's
    std::uint32_t sources = 0;
};

// Everything one direction of an allocation knows about its traffic.
class LegStats {
  public:
    static constexpr std::size_t max_sources = 8;
    // Sees one relayed datagram. RFC 7983: first byte 128-191 is RTP or RTCP; RFC 5761:
    // a second byte of 192-223 (payload types 64-95 with the marker) is RTCP.
    void observe(stun::Bytes payload, TimePoint arrival) {
        observe_header(payload.first(std::min<std::size_t>(payload.size(), 12)), payload.size(),
                       arrival);
    }
    // The same from a datagram's first bytes and its size: what the kernel fast path
    // reports of each datagram it carried (relay/xdp).
    void observe_header(stun::Bytes header, std::size_t size, TimePoint arrival);

    const RateMeter& rate() const { return rate_; }
    MediaTotals media() const;
    std::uint64_t untracked_rtp() const { return untracked_; }

  private:
    RateMeter rate_;
    std::array<RtpSource, max_sources> sources_{};
    std::size_t source_count_ = 0;
    std::uint64_t untracked_ = 0;  // packets of SSRCs past max_sources
};

// A call quality score from 0 to 100, documented in the README: loss costs most, then
// jitter past 20 ms, then drops at the relay.
int quality_score(double loss_fraction, double jitter_milliseconds, double drop_fraction);
// The score of some traffic: RTP packets expected and lost, the worst jitter, and packets
// relayed and dropped at the relay.
int quality_of(std::uint64_t rtp_expected, std::int64_t rtp_lost, double jitter_milliseconds,
               std::uint64_t packets, std::uint64_t dropped);

}  // namespace hearth::turn
