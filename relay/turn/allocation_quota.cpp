#include "relay/turn/allocation_quota.h"

#include <algorithm>

namespace hearth::turn {

AllocationQuota::AllocationQuota(std::uint32_t max_total, std::uint32_t max_per_user)
    : max_total_(max_total), max_per_user_(max_per_user) {}

AllocationQuota::Holders::const_iterator AllocationQuota::oldest_idle(const Holders& holders,
                                                                      TimePoint now,
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
        auto& holders = found->second;
        const auto idle = oldest_idle(holders, now, rejoin_idle);
        if (idle != holders.end()) {
            const AllocationId replaced = idle->id;
            holders[static_cast<std::size_t>(idle - holders.begin())] = std::move(holder);
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

bool AllocationQuota::has_idle(std::string_view user_key, TimePoint now,
                               Seconds rejoin_idle) const {
    std::lock_guard lock(mutex_);
    const auto found = per_user_.find(std::string(user_key));
    return rejoin_idle.count() > 0 && found != per_user_.end() &&
           oldest_idle(found->second, now, rejoin_idle) != found->second.end();
}

std::optional<AllocationId> AllocationQuota::hand_over_idle(std::string_view user_key,
                                                            TimePoint now, Seconds rejoin_idle) {
    std::lock_guard lock(mutex_);
    const auto found = per_user_.find(std::string(user_key));
    if (rejoin_idle.count() == 0 || found == per_user_.end()) {
        return std::nullopt;
    }
    const auto idle = oldest_idle(found->second, now, rejoin_idle);
    if (idle == found->second.end()) {
        return std::nullopt;
    }
    const AllocationId id = idle->id;
    forget(found, idle);
    session_slot_handed_over_.insert(id);
    return id;
}

AllocationQuota::SessionSlot AllocationQuota::release(std::string_view user_key, AllocationId id) {
    std::lock_guard lock(mutex_);
    if (session_slot_handed_over_.erase(id) > 0) {
        return SessionSlot::handed_over;  // both its slots went with hand_over_idle
    }
    const auto found = per_user_.find(std::string(user_key));
    if (found == per_user_.end()) {
        return SessionSlot::give_back;
    }
    const auto holder = std::ranges::find(found->second, id, &QuotaHolder::id);
    if (holder != found->second.end()) {
        forget(found, holder);
    }
    return SessionSlot::give_back;
}

void AllocationQuota::forget(std::unordered_map<std::string, Holders>::iterator user,
                             Holders::const_iterator holder) {
    user->second.erase(holder);
    if (user->second.empty()) {
        per_user_.erase(user);
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
