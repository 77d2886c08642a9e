#pragma once

// What every worker's TurnServer shares with the others: the allocation caps, each
// session's bandwidth budget, and the sources banned for failing authentication. Each
// guards itself; none is touched per relayed packet but the session budget's atomics.

#include "relay/turn/allocation_quota.h"
#include "relay/turn/session_budgets.h"
#include "relay/turn/source_ban_list.h"

namespace hearth::turn {

struct SharedLimits {
    AllocationQuota quota;
    SessionBudgets session_budgets;
    SourceBanList auth_bans;
};

}  // namespace hearth::turn
