#include "relay/turn/allocation_quota.h"

namespace hearth::turn {

AllocationQuota::AllocationQuota(std::uint32_t max_total, std::uint32_t max_per_user)
    : max_total_(max_total), max_per_user_(max_per_user) {}

AllocationQuota::Result AllocationQuota::acquire(std::string_view user_key) {
    std::lock_guard lock(mutex_);
    if (total_ >= max_total_) {
        return Result::total_reached;
    }
    auto& count = per_user_[std::string(user_key)];
    if (count >= max_per_user_) {
        return Result::user_reached;
    }
    ++count;
    ++total_;
    return Result::granted;
}

void AllocationQuota::release(std::string_view user_key) {
    std::lock_guard lock(mutex_);
    const auto found = per_user_.find(std::string(user_key));
    if (found == per_user_.end()) {
        return;
    }
    if (--found->second == 0) {
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
