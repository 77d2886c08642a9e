#pragma once

// Token buckets in bits for relayed bandwidth (config limits.allocation_bandwidth_bps and
// limits.session_bandwidth_bps). Time is an argument; no clock is read, nothing allocated.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "relay/turn/clock.h"

namespace hearth::turn {

// How long a bucket may save up: a keyframe or a burst of retransmissions passes, a
// sustained excess does not.
constexpr std::chrono::milliseconds bandwidth_burst{500};

// One owner's bucket: `rate_bps` bits a second, at most rate * bandwidth_burst saved.
// A rate of 0 is no limit.
class TokenBucket {
  public:
    TokenBucket() = default;
    TokenBucket(std::uint64_t rate_bps, TimePoint now);

    // Spends the bits of `bytes` if the bucket holds them; false means drop the packet.
    bool take(std::size_t bytes, TimePoint now);
    // For a stream, which is delayed rather than dropped: spends what the bucket holds of
    // `wanted` bytes and returns how many that is.
    std::size_t grant(std::size_t wanted, TimePoint now);
    // Returns bytes granted but not spent after all.
    void give_back(std::size_t bytes);

  private:
    void refill(TimePoint now);

    std::uint64_t rate_bps_ = 0;
    std::int64_t burst_bits_ = 0;
    std::int64_t tokens_ = 0;
    TimePoint last_refill_{};
};

// The same bucket spent by several workers at once (a session's allocations may sit on
// different workers): atomics, no lock. Refills race benignly; the cap holds.
class SharedTokenBucket {
  public:
    SharedTokenBucket(std::uint64_t rate_bps, TimePoint now);

    bool take(std::size_t bytes, TimePoint now);
    std::size_t grant(std::size_t wanted, TimePoint now);
    void give_back(std::size_t bytes);

  private:
    void refill(TimePoint now);

    const std::uint64_t rate_bps_;
    const std::int64_t burst_bits_;
    std::atomic<std::int64_t> tokens_;
    std::atomic<std::int64_t> last_refill_ns_;
};

}  // namespace hearth::turn
