#pragma once

// The allocation caps that span every worker: in total and per user. Shared between
// worker threads with a mutex on purpose: it is touched only when an allocation is
// created or deleted, never per packet.
//
// Rejoin (issue 16): a browser opens an allocation per TURN URL, and one whose tab
// crashed leaves them behind until they expire. So the cap knows each of a user's
// allocations and when it last relayed (RelayActivity, written by the owning worker's
// packet path), and past the cap gives the slot of the user's oldest allocation idle for
// `rejoin_idle` to the new one. The quota only decides; the caller deletes the replaced
// allocation on the worker that owns it, since each allocation belongs to one worker.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relay/turn/clock.h"
#include "relay/turn/relay_activity.h"

namespace hearth::turn {

// One allocation as the cap counts it.
struct QuotaHolder {
    AllocationId id = 0;
    std::shared_ptr<const RelayActivity> activity;
};

class AllocationQuota {
  public:
    AllocationQuota(std::uint32_t max_total, std::uint32_t max_per_user);

    enum class Result { granted, replaced, total_reached, user_reached };
    struct Admission {
        Result result = Result::granted;
        AllocationId replaced = 0;  // with Result::replaced: the allocation to delete
    };
    // `rejoin_idle` of zero: never replace, the cap refuses as it always did.
    Admission acquire(std::string_view user_key, QuotaHolder holder, TimePoint now,
                      Seconds rejoin_idle);
    // Gives back `id`'s slot; nothing when a replacement already took it.
    void release(std::string_view user_key, AllocationId id);
    std::uint32_t total() const;
    // Reload: new caps; allocations above them stay until they end.
    void set_limits(std::uint32_t max_total, std::uint32_t max_per_user);

  private:
    using Holders = std::vector<QuotaHolder>;
    static Holders::iterator oldest_idle(Holders& holders, TimePoint now, Seconds rejoin_idle);

    mutable std::mutex mutex_;
    std::uint32_t max_total_;
    std::uint32_t max_per_user_;
    std::uint32_t total_ = 0;
    std::unordered_map<std::string, Holders> per_user_;
};

}  // namespace hearth::turn
