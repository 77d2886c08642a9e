#include "relay/turn/session_budgets.h"

namespace hearth::turn {

std::shared_ptr<SessionBudget> SessionBudgets::budget_for(std::string_view session_id,
                                                          TimePoint now) {
    const std::lock_guard lock(mutex_);
    if (rate_bps_ == 0) {
        return nullptr;
    }
    const std::string key(session_id);
    if (auto existing = budgets_[key].lock()) {
        return existing;
    }
    // Forget the sessions whose allocations are all gone, each time the table has doubled:
    // it stays within twice the live sessions at an amortised constant cost.
    if (budgets_.size() >= 2 * size_after_prune_ + 64) {
        std::erase_if(budgets_, [](const auto& entry) { return entry.second.expired(); });
        size_after_prune_ = budgets_.size();
    }
    auto budget = std::make_shared<SessionBudget>(rate_bps_, now);
    budgets_[key] = budget;
    return budget;
}

void SessionBudgets::set_rate(std::uint64_t rate_bps) {
    const std::lock_guard lock(mutex_);
    rate_bps_ = rate_bps;
}

}  // namespace hearth::turn
