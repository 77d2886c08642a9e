#include "relay/net/connection_limiter.h"

#include <algorithm>

#include "relay/turn/source_prefix.h"

namespace hearth::relay {

namespace {

std::uint32_t share_of(std::uint32_t bound, std::uint32_t percent) {
    const auto share = static_cast<std::uint64_t>(bound) * percent / 100;
    return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, share));
}

}  // namespace

ConnectionLimiter::ConnectionLimiter(std::uint32_t max_total, std::uint32_t max_per_source,
                                     std::uint32_t unauthenticated_percent) {
    set_limits(max_total, max_per_source, unauthenticated_percent);
}

void ConnectionLimiter::set_workers(unsigned workers) {
    std::lock_guard lock(mutex_);
    unauthenticated_by_worker_.assign(std::max(1u, workers), 0);
    shares_changed();
}

ConnectionLimiter::Result ConnectionLimiter::admit(const IpAddress& address, unsigned worker) {
    const IpAddress source = turn::source_prefix(address);
    std::lock_guard lock(mutex_);
    if (total_ >= max_total_) {
        return Result::total_reached;
    }
    auto& on_worker = unauthenticated_by_worker_.at(worker);
    if (on_worker >= max_unauthenticated_per_worker_) {
        return Result::unauthenticated_reached;
    }
    const auto found = per_source_.find(source);
    const Count count = found != per_source_.end() ? found->second : Count{};
    if (count.all >= max_per_source_) {
        return Result::source_reached;
    }
    if (count.unauthenticated >= max_unauthenticated_per_source_) {
        return Result::source_unauthenticated_reached;
    }
    auto& held = per_source_[source];
    ++held.all;
    ++held.unauthenticated;
    ++total_;
    ++unauthenticated_;
    ++on_worker;
    return Result::admitted;
}

void ConnectionLimiter::count_refusal(Result result) {
    switch (result) {
        case Result::admitted:
            return;
        case Result::total_reached:
            refused_total_.fetch_add(1, std::memory_order_relaxed);
            return;
        case Result::source_reached:
            refused_per_source_.fetch_add(1, std::memory_order_relaxed);
            return;
        case Result::unauthenticated_reached:
        case Result::source_unauthenticated_reached:
            refused_unauthenticated_.fetch_add(1, std::memory_order_relaxed);
            return;
    }
}

void ConnectionLimiter::authenticated(const IpAddress& address, unsigned worker) {
    const IpAddress source = turn::source_prefix(address);
    std::lock_guard lock(mutex_);
    const auto found = per_source_.find(source);
    if (found == per_source_.end() || found->second.unauthenticated == 0) {
        return;
    }
    --found->second.unauthenticated;
    --unauthenticated_;
    --unauthenticated_by_worker_.at(worker);
}

void ConnectionLimiter::release(const IpAddress& address, unsigned worker, bool was_authenticated) {
    const IpAddress source = turn::source_prefix(address);
    std::lock_guard lock(mutex_);
    const auto found = per_source_.find(source);
    if (found == per_source_.end()) {
        return;
    }
    if (!was_authenticated && found->second.unauthenticated > 0) {
        --found->second.unauthenticated;
        --unauthenticated_;
        --unauthenticated_by_worker_.at(worker);
    }
    if (--found->second.all == 0) {
        per_source_.erase(found);
    }
    --total_;
}

std::uint32_t ConnectionLimiter::open() const {
    std::lock_guard lock(mutex_);
    return total_;
}

std::uint32_t ConnectionLimiter::unauthenticated_open() const {
    std::lock_guard lock(mutex_);
    return unauthenticated_;
}

void ConnectionLimiter::set_limits(std::uint32_t max_total, std::uint32_t max_per_source,
                                   std::uint32_t unauthenticated_percent) {
    std::lock_guard lock(mutex_);
    max_total_ = max_total;
    max_per_source_ = max_per_source;
    unauthenticated_percent_ = unauthenticated_percent;
    shares_changed();
}

void ConnectionLimiter::shares_changed() {
    const auto workers = static_cast<std::uint32_t>(unauthenticated_by_worker_.size());
    max_unauthenticated_per_worker_ =
        std::max(1u, share_of(max_total_, unauthenticated_percent_) / workers);
    max_unauthenticated_per_source_ = share_of(max_per_source_, unauthenticated_percent_);
}

}  // namespace hearth::relay
