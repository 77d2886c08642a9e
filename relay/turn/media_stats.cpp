#include "relay/turn/media_stats.h"

#include <algorithm>
#include <cmath>

namespace hearth::turn {

namespace {

// RFC 3550 A.1.
constexpr std::uint32_t rtp_sequence_mod = 1u << 16;
constexpr std::uint16_t max_dropout = 3000;
constexpr std::uint16_t max_misorder = 100;

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

std::uint32_t read_u32(const std::byte* bytes) {
    return (static_cast<std::uint32_t>(read_u16(bytes)) << 16) | read_u16(bytes + 2);
}

}  // namespace

void RateMeter::add(std::size_t bytes, std::int64_t second) {
    const std::size_t slot = static_cast<std::size_t>(second) % bytes_.size();
    if (second_[slot] != second) {
        second_[slot] = second;
        bytes_[slot] = 0;
    }
    bytes_[slot] += bytes;
}

std::uint64_t RateMeter::bits_per_second(std::int64_t now_second) const {
    // The current second is still filling: average the full seconds before it.
    std::uint64_t total = 0;
    for (std::size_t slot = 0; slot < bytes_.size(); ++slot) {
        const std::int64_t age = now_second - second_[slot];
        if (age >= 1 && age <= static_cast<std::int64_t>(window_seconds)) {
            total += bytes_[slot];
        }
    }
    return total * 8 / window_seconds;
}

// RFC 3550 A.1 init_seq, then the first packet counted: the sequence accounting starts
// at whatever number the sender chose, 0 and 65535 like any other (a first packet
// treated as the successor of 65535 would count a wrap that never happened).
void RtpSource::start(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t timestamp,
                      TimePoint arrival) {
    *this = RtpSource{};
    ssrc_ = ssrc;
    restart(sequence);
    first_timestamp_ = timestamp;
    first_arrival_ = arrival;
    count(timestamp, arrival);
}

void RtpSource::restart(std::uint16_t sequence) {
    base_sequence_ = sequence;
    max_sequence_ = sequence;
    bad_sequence_ = rtp_sequence_mod + 1;
    cycles_ = 0;
    received_ = 0;
    has_transit_ = false;
}

std::uint64_t RtpSource::expected() const {
    const std::uint64_t extended_max = cycles_ + max_sequence_;
    return extended_max + 1 - base_sequence_;
}

void RtpSource::update(std::uint16_t sequence, std::uint32_t timestamp, TimePoint arrival) {
    // RFC 3550 A.1 update_seq, without the probation of new sources (a relay sees only
    // sources its client sends, so every SSRC is taken as valid from its first packet).
    const auto delta = static_cast<std::uint16_t>(sequence - max_sequence_);
    if (delta < max_dropout) {
        if (sequence < max_sequence_) {
            cycles_ += rtp_sequence_mod;  // wrapped
        }
        max_sequence_ = sequence;
    } else if (delta <= rtp_sequence_mod - max_misorder) {
        // A very large jump: a restarted stream if the next packet follows this one.
        if (sequence == bad_sequence_) {
            restart(sequence);
        } else {
            bad_sequence_ = (sequence + 1) & (rtp_sequence_mod - 1);
            return;
        }
    }
    // else: a duplicate or a reordered packet; counted as received, as A.3 does.
    count(timestamp, arrival);
}

// One packet received: counted, and its transit taken into the jitter (A.8).
void RtpSource::count(std::uint32_t timestamp, TimePoint arrival) {
    ++received_;
    if (clock_rate_ == 0) {
        estimate_clock_rate(timestamp, arrival);
        return;
    }
    // RFC 3550 A.8: transit = arrival (in timestamp units) - RTP timestamp.
    const auto arrival_units = static_cast<std::int64_t>(
        std::chrono::duration<double>(arrival.time_since_epoch()).count() * clock_rate_);
    const std::int64_t transit = arrival_units - static_cast<std::int64_t>(timestamp);
    if (has_transit_) {
        const double difference = std::fabs(static_cast<double>(transit - last_transit_));
        // Timestamps wrap at 2^32; a difference that large is a wrap, not jitter.
        if (difference < 0x7FFFFFFF) {
            jitter_ += (difference - jitter_) / 16.0;
        }
    }
    last_transit_ = transit;
    has_transit_ = true;
}

void RtpSource::estimate_clock_rate(std::uint32_t timestamp, TimePoint arrival) {
    const double elapsed = std::chrono::duration<double>(arrival - first_arrival_).count();
    if (elapsed < 1.0) {
        return;
    }
    const double measured = static_cast<std::uint32_t>(timestamp - first_timestamp_) / elapsed;
    constexpr std::uint32_t rates[] = {8000, 16000, 24000, 32000, 44100, 48000, 90000};
    std::uint32_t nearest = rates[0];
    for (const auto rate : rates) {
        if (std::fabs(measured - rate) < std::fabs(measured - nearest)) {
            nearest = rate;
        }
    }
    clock_rate_ = nearest;
}

double RtpSource::jitter_milliseconds() const {
    return clock_rate_ == 0 ? 0.0 : jitter_ * 1000.0 / clock_rate_;
}

void LegStats::observe_header(stun::Bytes payload, std::size_t size, TimePoint arrival) {
    rate_.add(size, second_of(arrival));
    if (payload.size() < 12) {
        return;
    }
    const unsigned first = std::to_integer<unsigned>(payload[0]);
    const unsigned second_byte = std::to_integer<unsigned>(payload[1]);
    if (first < 128 || first > 191 || (second_byte >= 192 && second_byte <= 223)) {
        return;  // not RTP: STUN, DTLS, RTCP, or something else
    }
    const std::uint16_t sequence = read_u16(payload.data() + 2);
    const std::uint32_t timestamp = read_u32(payload.data() + 4);
    const std::uint32_t ssrc = read_u32(payload.data() + 8);
    for (std::size_t i = 0; i < source_count_; ++i) {
        if (sources_[i].ssrc() == ssrc) {
            sources_[i].update(sequence, timestamp, arrival);
            return;
        }
    }
    if (source_count_ == sources_.size()) {
        ++untracked_;
        return;
    }
    sources_[source_count_++].start(ssrc, sequence, timestamp, arrival);
}

MediaTotals LegStats::media() const {
    MediaTotals totals;
    for (std::size_t i = 0; i < source_count_; ++i) {
        const auto& source = sources_[i];
        totals.rtp_expected += source.expected();
        totals.rtp_received += source.received();
        totals.rtp_lost += std::max<std::int64_t>(source.lost(), 0);
        totals.jitter_milliseconds =
            std::max(totals.jitter_milliseconds, source.jitter_milliseconds());
    }
    totals.sources = static_cast<std::uint32_t>(source_count_);
    return totals;
}

int quality_score(double loss_fraction, double jitter_milliseconds, double drop_fraction) {
    double score = 100.0;
    score -= std::min(60.0, loss_fraction * 100.0 * 6.0);                      // 10 % loss: -60
    score -= std::min(25.0, std::max(0.0, jitter_milliseconds - 20.0) * 0.5);  // 70 ms: -25
    score -= std::min(15.0, drop_fraction * 100.0 * 3.0);                      // 5 % dropped: -15
    return static_cast<int>(std::lround(std::clamp(score, 0.0, 100.0)));
}

int quality_of(std::uint64_t rtp_expected, std::int64_t rtp_lost, double jitter_milliseconds,
               std::uint64_t packets, std::uint64_t dropped) {
    const double expected = static_cast<double>(rtp_expected);
    const double lost = static_cast<double>(std::max<std::int64_t>(rtp_lost, 0));
    const double seen = static_cast<double>(packets + dropped);
    return quality_score(expected > 0 ? lost / expected : 0.0, jitter_milliseconds,
                         seen > 0 ? static_cast<double>(dropped) / seen : 0.0);
}

}  // namespace hearth::turn
