#pragma once

// What every worker's TurnServer shares with the others: the allocation caps, each
// session's bandwidth budget, the sources banned for failing authentication and the
// per-source request rates. Each guards itself; none is touched per relayed packet but
// the session budget's atomics.

#include "relay/turn/allocation_quota.h"
#include "relay/turn/session_budgets.h"
#include "relay/turn/source_ban_list.h"
#include "relay/turn/source_rate_limiter.h"

namespace hearth::turn {

struct SharedLimits {
    AllocationQuota quota;
    SessionBudgets session_budgets;
    SourceBanList auth_bans;
    // Their rates are the workers' settings (TurnServer sets them, and again on reload).
    SourceRateLimiter unauthenticated_requests{};
    SourceRateLimiter allocate_requests{};
    SourceRateLimiter upkeep_requests{};  // Refresh, CreatePermission, ChannelBind, Connect
};

}  // namespace hearth::turn
