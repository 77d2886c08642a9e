#include "admin/node_history.h"

#include <algorithm>

namespace hearth::admin {

void HistoryRing::push(const HistorySample& sample) {
    samples_[next_] = sample;
    next_ = (next_ + 1) % capacity;
    size_ = std::min(size_ + 1, capacity);
}

std::vector<HistorySample> HistoryRing::samples() const {
    std::vector<HistorySample> oldest_first;
    oldest_first.reserve(size_);
    const std::size_t oldest = (next_ + capacity - size_) % capacity;
    for (std::size_t i = 0; i < size_; ++i) {
        oldest_first.push_back(samples_[(oldest + i) % capacity]);
    }
    return oldest_first;
}

namespace {

std::uint64_t total_bytes(const std::array<turn::DirectionCounters, 3>& by_transport) {
    std::uint64_t bytes = 0;
    for (const auto& counters : by_transport) {
        bytes += counters.bytes;
    }
    return bytes;
}

// Bits per second from a byte count's growth; a count that fell (it cannot, but a reading
// is not to be trusted blindly) gives 0.
std::uint64_t bits_per_second(std::uint64_t before, std::uint64_t after, std::int64_t elapsed_ms) {
    if (after < before || elapsed_ms <= 0) {
        return 0;
    }
    return (after - before) * 8 * 1000 / static_cast<std::uint64_t>(elapsed_ms);
}

}  // namespace

void NodeHistory::record(const std::vector<relay::WorkerSnapshot>& workers, std::int64_t unix_ms) {
    const relay::NodeCounters totals = relay::sum_of(workers);
    const std::uint64_t to_peer_bytes = total_bytes(totals.client_to_peer);
    const std::uint64_t to_client_bytes = total_bytes(totals.peer_to_client);

    HistorySample sample;
    sample.unix_ms = unix_ms;
    const std::int64_t elapsed_ms = unix_ms - last_unix_ms_;
    sample.to_peer_bps = bits_per_second(last_to_peer_bytes_, to_peer_bytes, elapsed_ms);
    sample.to_client_bps = bits_per_second(last_to_client_bytes_, to_client_bytes, elapsed_ms);

    // Loss of the interval alone, allocation by allocation: one that began within it
    // counts from zero, one that ended within it is left out (its totals are gone).
    std::unordered_map<turn::AllocationId, RtpCounts> rtp;
    std::uint64_t expected = 0;
    std::int64_t lost = 0;
    double quality_sum = 0;
    for (const auto& worker : workers) {
        for (const auto& allocation : worker.allocations) {
            const auto& up = allocation.client_to_peer_media;
            const auto& down = allocation.peer_to_client_media;
            const RtpCounts now{up.rtp_expected + down.rtp_expected, up.rtp_lost + down.rtp_lost};
            rtp[allocation.id] = now;
            const auto before = last_rtp_.find(allocation.id);
            const RtpCounts then = before != last_rtp_.end() ? before->second : RtpCounts{};
            if (now.expected >= then.expected) {
                expected += now.expected - then.expected;
                lost += now.lost - then.lost;
            }
            quality_sum += allocation.quality;
            sample.lowest_quality =
                std::min(sample.lowest_quality.value_or(100), allocation.quality);
            ++sample.allocations;
        }
    }
    if (expected > 0) {
        // Duplicates make RFC 3550's "lost" negative: no loss, not a gain.
        sample.loss_fraction = static_cast<double>(std::clamp<std::int64_t>(
                                   lost, 0, static_cast<std::int64_t>(expected))) /
                               static_cast<double>(expected);
    }
    if (sample.allocations > 0) {
        sample.mean_quality = quality_sum / static_cast<double>(sample.allocations);
    }

    if (has_baseline_) {
        ring_.push(sample);
    }
    has_baseline_ = true;
    last_unix_ms_ = unix_ms;
    last_to_peer_bytes_ = to_peer_bytes;
    last_to_client_bytes_ = to_client_bytes;
    last_rtp_ = std::move(rtp);
}

}  // namespace hearth::admin
