#include "relay/net/connection_limiter.h"

#include "relay/turn/source_prefix.h"

namespace hearth::relay {

ConnectionLimiter::Result ConnectionLimiter::admit(const IpAddress& address) {
    const IpAddress source = turn::source_prefix(address);
    std::lock_guard lock(mutex_);
    if (total_ >= max_total_) {
        refused_total_.fetch_add(1, std::memory_order_relaxed);
        return Result::total_reached;
    }
    auto& count = per_source_[source];
    if (count >= max_per_source_) {
        refused_per_source_.fetch_add(1, std::memory_order_relaxed);
        return Result::source_reached;
    }
    ++count;
    ++total_;
    return Result::admitted;
}

void ConnectionLimiter::release(const IpAddress& address) {
    const IpAddress source = turn::source_prefix(address);
    std::lock_guard lock(mutex_);
    const auto found = per_source_.find(source);
    if (found == per_source_.end()) {
        return;
    }
    if (--found->second == 0) {
        per_source_.erase(found);
    }
    --total_;
}

std::uint32_t ConnectionLimiter::open() const {
    std::lock_guard lock(mutex_);
    return total_;
}

void ConnectionLimiter::set_limits(std::uint32_t max_total, std::uint32_t max_per_source) {
    std::lock_guard lock(mutex_);
    max_total_ = max_total;
    max_per_source_ = max_per_source;
}

}  // namespace hearth::relay
