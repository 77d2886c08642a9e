#pragma once

// Latencies in microseconds: 1 µs buckets up to 10 ms, then 100 µs buckets up to 1 s,
// so p99.9 keeps its precision where relays live. Fixed size; recording never allocates.

#include <array>
#include <cstddef>
#include <cstdint>

namespace hearth::load {

class LatencyHistogram {
  public:
    void record(std::uint64_t microseconds) {
        ++count_;
        if (microseconds < fine_buckets) {
            ++fine_[microseconds];
        } else {
            const std::uint64_t coarse = (microseconds - fine_buckets) / coarse_width;
            ++coarse_[coarse < coarse_buckets ? coarse : coarse_buckets - 1];
        }
    }

    std::uint64_t count() const { return count_; }

    // Adds `count` samples to bucket `index`: 0 to fine_buckets - 1 the fine ones, then
    // the coarse ones (load_bounce.bpf.c counts in the kernel with the same buckets).
    void add_to_bucket(std::size_t index, std::uint64_t count) {
        count_ += count;
        if (index < fine_buckets) {
            fine_[index] += count;
        } else if (index < buckets) {
            coarse_[index - fine_buckets] += count;
        }
    }

    // The smallest latency at or below which `fraction` of the samples lie; 0 when empty.
    std::uint64_t percentile(double fraction) const {
        const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(count_));
        std::uint64_t seen = 0;
        for (std::uint64_t i = 0; i < fine_buckets; ++i) {
            seen += fine_[i];
            if (seen > wanted) {
                return i;
            }
        }
        for (std::uint64_t i = 0; i < coarse_buckets; ++i) {
            seen += coarse_[i];
            if (seen > wanted) {
                return fine_buckets + i * coarse_width;
            }
        }
        return count_ == 0 ? 0 : fine_buckets + coarse_buckets * coarse_width;
    }

    static constexpr std::uint64_t fine_buckets = 10'000;
    static constexpr std::uint64_t coarse_width = 100;
    static constexpr std::uint64_t coarse_buckets = 9'900;
    static constexpr std::uint64_t buckets = fine_buckets + coarse_buckets;

  private:
    std::array<std::uint64_t, fine_buckets> fine_{};
    std::array<std::uint64_t, coarse_buckets> coarse_{};
    std::uint64_t count_ = 0;
};

}  // namespace hearth::load
