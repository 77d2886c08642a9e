#pragma once

// Each therapy session's relayed-bandwidth budget, shared by all of the session's
// allocations on every worker of this node. Looked up under a mutex when an allocation is
// created; spent per packet through SharedTokenBucket's atomics only.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "relay/turn/token_bucket.h"

namespace hearth::turn {

struct SessionBudget {
    SessionBudget(std::uint64_t rate_bps, TimePoint now)
        : client_to_peer(rate_bps, now), peer_to_client(rate_bps, now) {}
    SharedTokenBucket client_to_peer;
    SharedTokenBucket peer_to_client;
};

class SessionBudgets {
  public:
    explicit SessionBudgets(std::uint64_t rate_bps) : rate_bps_(rate_bps) {}

    // The session's budget, made when its first allocation on this node is; it lives as
    // long as one of them holds it. Null when sessions are not limited.
    std::shared_ptr<SessionBudget> budget_for(std::string_view session_id, TimePoint now);
    // Reload: budgets made from now on use the new rate.
    void set_rate(std::uint64_t rate_bps);

  private:
    std::mutex mutex_;
    std::uint64_t rate_bps_;
    std::unordered_map<std::string, std::weak_ptr<SessionBudget>> budgets_;
    std::size_t size_after_prune_ = 0;
};

}  // namespace hearth::turn
