#include "relay/turn/source_rate_limiter.h"

#include <algorithm>

#include "relay/turn/source_prefix.h"

namespace hearth::turn {

namespace {

std::size_t hash_of(const IpAddress& source) {
    return TransportAddressHash{}(TransportAddress{source, 0});
}

}  // namespace

SourceRateLimiter::Bucket* SourceRateLimiter::find(const IpAddress& source, std::size_t hash) {
    for (std::size_t probe = 0; probe < probe_limit; ++probe) {
        Bucket& candidate = buckets_[(hash + probe) & (table_size - 1)];
        if (candidate.used && candidate.source == source) {
            return &candidate;
        }
    }
    return nullptr;
}

bool SourceRateLimiter::allow(const IpAddress& address, TimePoint now) {
    const IpAddress source = source_prefix(address);
    std::lock_guard lock(mutex_);
    if (per_second_ == 0) {
        return true;
    }
    const std::size_t hash = hash_of(source);
    Bucket* bucket = find(source, hash);
    if (bucket == nullptr) {
        Bucket* oldest = &buckets_[hash & (table_size - 1)];
        for (std::size_t probe = 1; probe < probe_limit; ++probe) {
            Bucket& candidate = buckets_[(hash + probe) & (table_size - 1)];
            if (!candidate.used || (oldest->used && candidate.refilled < oldest->refilled)) {
                oldest = &candidate;
            }
        }
        // A new source starts with a full bucket, in the slot used longest ago.
        *oldest = Bucket{source, now, static_cast<double>(per_second_), true};
        bucket = oldest;
    } else {
        const std::chrono::duration<double> elapsed = now - bucket->refilled;
        bucket->tokens =
            std::min<double>(per_second_, bucket->tokens + elapsed.count() * per_second_);
        bucket->refilled = now;
    }
    if (bucket->tokens < 1.0) {
        ++refused_;
        return false;
    }
    bucket->tokens -= 1.0;
    return true;
}

void SourceRateLimiter::give_back(const IpAddress& address) {
    const IpAddress source = source_prefix(address);
    std::lock_guard lock(mutex_);
    if (Bucket* bucket = find(source, hash_of(source))) {
        bucket->tokens = std::min<double>(per_second_, bucket->tokens + 1.0);
    }
}

std::uint64_t SourceRateLimiter::refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
}

void SourceRateLimiter::set_rate(std::uint32_t per_second) {
    std::lock_guard lock(mutex_);
    per_second_ = per_second;
}

}  // namespace hearth::turn
