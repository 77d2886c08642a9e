#include "relay/turn/source_rate_limiter.h"

#include <algorithm>

namespace hearth::turn {

bool SourceRateLimiter::allow(const IpAddress& source, TimePoint now) {
    if (per_second_ == 0) {
        return true;
    }
    const std::size_t hash = TransportAddressHash{}(TransportAddress{source, 0});
    Bucket* oldest = nullptr;
    Bucket* bucket = nullptr;
    for (std::size_t probe = 0; probe < probe_limit; ++probe) {
        Bucket& candidate = buckets_[(hash + probe) & (table_size - 1)];
        if (candidate.used && candidate.source == source) {
            bucket = &candidate;
            break;
        }
        if (oldest == nullptr || !candidate.used || candidate.refilled < oldest->refilled) {
            oldest = &candidate;
        }
    }
    if (bucket == nullptr) {
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

}  // namespace hearth::turn
