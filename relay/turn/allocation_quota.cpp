#include "relay/turn/allocation_quota.h"

#include <algorithm>

namespace hearth::turn {

AllocationQuota::AllocationQuota(std::uint32_t max_total, std::uint32_t max_per_user)
    : max_total_(max_total), max_per_user_(max_per_user) {}

AllocationQuota::Holders::iterator AllocationQuota::oldest_idle(Holders& holders, TimePoint now,
                                                                Seconds rejoin_idle) {
    auto oldest = holders.end();
    for (auto holder = holders.begin(); holder != holders.end(); ++holder) {
        const TimePoint last = holder->activity->last_relayed();
        if (now - last >= rejoin_idle &&
            (oldest == holders.end() || last < oldest->activity->last_relayed())) {
            oldest = holder;
        }
    }
    return oldest;
}

AllocationQuota::Admission AllocationQuota::acquire(std::string_view user_key, QuotaHolder holder,
                                                    TimePoint now, Seconds rejoin_idle) {
    std::lock_guard lock(mutex_);
    const auto found = per_user_.find(std::string(user_key));
    const std::size_t held = found == per_user_.end() ? 0 : found->second.size();
    // A replacement keeps the total as it is, so it is allowed even at the node's cap.
    if (held >= max_per_user_ && held > 0 && rejoin_idle.count() > 0) {
        const auto idle = oldest_idle(found->second, now, rejoin_idle);
        if (idle != found->second.end()) {
            const AllocationId replaced = idle->id;
            *idle = std::move(holder);
            return {Result::replaced, replaced};
        }
    }
    if (total_ >= max_total_) {
        return {Result::total_reached, 0};
    }
    if (held >= max_per_user_) {
        return {Result::user_reached, 0};
    }
    per_user_[std::string(user_key)].push_back(std::move(holder));
    ++total_;
    return {Result::granted, 0};
}

void AllocationQuota::release(std::string_view user_key, AllocationId id) {
    std::lock_guard lock(mutex_);
    const auto found = per_user_.find(std::string(user_key));
    if (found == per_user_.end()) {
        return;
    }
    auto& holders = found->second;
    const auto holder = std::ranges::find(holders, id, &QuotaHolder::id);
    if (holder == holders.end()) {
        return;
    }
    holders.erase(holder);
    if (holders.empty()) {
        per_user_.erase(found);
    }
    --total_;
}

void AllocationQuota::set_limits(std::uint32_t max_total, std::uint32_t max_per_user) {
    std::lock_guard lock(mutex_);
    max_total_ = max_total;
    max_per_user_ = max_per_user;
}

std::uint32_t AllocationQuota::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

}  // namespace hearth::turn
