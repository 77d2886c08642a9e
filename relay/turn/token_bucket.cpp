#include "relay/turn/token_bucket.h"

#include <algorithm>

namespace hearth::turn {

namespace {

std::int64_t burst_of(std::uint64_t rate_bps) {
    return static_cast<std::int64_t>(rate_bps * bandwidth_burst.count() / 1000);
}

// Bits earned over `elapsed_ns` at `rate_bps`, never more than a full bucket.
std::int64_t earned(std::int64_t elapsed_ns, std::uint64_t rate_bps, std::int64_t burst_bits) {
    if (elapsed_ns <= 0) {
        return 0;
    }
    const double bits = static_cast<double>(elapsed_ns) * static_cast<double>(rate_bps) / 1e9;
    return bits >= static_cast<double>(burst_bits) ? burst_bits : static_cast<std::int64_t>(bits);
}

std::int64_t nanoseconds(TimePoint time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::int64_t bits_of(std::size_t bytes) {
    return static_cast<std::int64_t>(bytes) * 8;
}

}  // namespace

TokenBucket::TokenBucket(std::uint64_t rate_bps, TimePoint now)
    : rate_bps_(rate_bps),
      burst_bits_(burst_of(rate_bps)),
      tokens_(burst_bits_),
      last_refill_(now) {}

void TokenBucket::refill(TimePoint now) {
    if (now > last_refill_) {
        tokens_ = std::min(
            burst_bits_,
            tokens_ + earned(nanoseconds(now) - nanoseconds(last_refill_), rate_bps_, burst_bits_));
        last_refill_ = now;
    }
}

bool TokenBucket::take(std::size_t bytes, TimePoint now) {
    if (rate_bps_ == 0) {
        return true;
    }
    refill(now);
    if (tokens_ < bits_of(bytes)) {
        return false;
    }
    tokens_ -= bits_of(bytes);
    return true;
}

std::size_t TokenBucket::grant(std::size_t wanted, TimePoint now) {
    if (rate_bps_ == 0) {
        return wanted;
    }
    refill(now);
    const std::size_t granted =
        std::min(wanted, static_cast<std::size_t>(std::max<std::int64_t>(tokens_, 0) / 8));
    tokens_ -= bits_of(granted);
    return granted;
}

void TokenBucket::give_back(std::size_t bytes) {
    if (rate_bps_ != 0) {
        tokens_ = std::min(burst_bits_, tokens_ + bits_of(bytes));
    }
}

SharedTokenBucket::SharedTokenBucket(std::uint64_t rate_bps, TimePoint now)
    : rate_bps_(rate_bps),
      burst_bits_(burst_of(rate_bps)),
      tokens_(burst_bits_),
      last_refill_ns_(nanoseconds(now)) {}

void SharedTokenBucket::refill(TimePoint now) {
    // Whoever moves the refill time forward adds what was earned since; the others see
    // the new time and add nothing.
    const std::int64_t now_ns = nanoseconds(now);
    std::int64_t last = last_refill_ns_.load(std::memory_order_relaxed);
    if (now_ns > last &&
        last_refill_ns_.compare_exchange_strong(last, now_ns, std::memory_order_relaxed)) {
        tokens_.fetch_add(earned(now_ns - last, rate_bps_, burst_bits_), std::memory_order_relaxed);
        std::int64_t current = tokens_.load(std::memory_order_relaxed);
        while (current > burst_bits_ &&
               !tokens_.compare_exchange_weak(current, burst_bits_, std::memory_order_relaxed)) {
        }
    }
}

bool SharedTokenBucket::take(std::size_t bytes, TimePoint now) {
    if (rate_bps_ == 0) {
        return true;
    }
    refill(now);
    const std::int64_t bits = bits_of(bytes);
    if (tokens_.fetch_sub(bits, std::memory_order_relaxed) < bits) {
        tokens_.fetch_add(bits, std::memory_order_relaxed);
        return false;
    }
    return true;
}

std::size_t SharedTokenBucket::grant(std::size_t wanted, TimePoint now) {
    if (rate_bps_ == 0) {
        return wanted;
    }
    refill(now);
    std::int64_t current = tokens_.load(std::memory_order_relaxed);
    std::size_t granted = 0;
    do {
        granted =
            std::min(wanted, static_cast<std::size_t>(std::max<std::int64_t>(current, 0) / 8));
    } while (granted > 0 && !tokens_.compare_exchange_weak(current, current - bits_of(granted),
                                                           std::memory_order_relaxed));
    return granted;
}

void SharedTokenBucket::give_back(std::size_t bytes) {
    if (rate_bps_ == 0) {
        return;
    }
    const std::int64_t bits = bits_of(bytes);
    std::int64_t current = tokens_.load(std::memory_order_relaxed);
    while (!tokens_.compare_exchange_weak(current, std::min(burst_bits_, current + bits),
                                          std::memory_order_relaxed)) {
    }
}

}  // namespace hearth::turn
