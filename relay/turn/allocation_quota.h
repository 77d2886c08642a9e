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
//
// The session's cap (the session store's, counted across nodes) follows the same rule:
// a rejoin that finds it reached is admitted on the session-store slot of the user's
// oldest idle allocation (hand_over_idle), which is then deleted without giving that slot
// back. The quota remembers which allocations' slots went so: whichever way such an
// allocation ends (the posted delete, or its expiry or the client first), release() tells
// its worker to keep the store's count as it is.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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
    // Whether the user holds an allocation idle for `rejoin_idle`: a rejoin may then take
    // its slot of the session's cap.
    bool has_idle(std::string_view user_key, TimePoint now, Seconds rejoin_idle) const;
    // The session's cap is reached and the store admitted a rejoin on the slot of one of
    // the user's idle allocations: the oldest, taken out of the cap here, once (two
    // rejoins at once never get the same one). Nullopt: none is idle any more.
    std::optional<AllocationId> hand_over_idle(std::string_view user_key, TimePoint now,
                                               Seconds rejoin_idle);
    // What the worker deleting an allocation does with its slot of the session's cap.
    enum class SessionSlot : std::uint8_t { give_back, handed_over };
    // Gives back `id`'s slot; nothing when a replacement already took it. Says whether
    // the allocation's session-store slot is still its own to give back.
    SessionSlot release(std::string_view user_key, AllocationId id);
    std::uint32_t total() const;
    // Reload: new caps; allocations above them stay until they end.
    void set_limits(std::uint32_t max_total, std::uint32_t max_per_user);

  private:
    using Holders = std::vector<QuotaHolder>;
    static Holders::const_iterator oldest_idle(const Holders& holders, TimePoint now,
                                               Seconds rejoin_idle);
    void forget(std::unordered_map<std::string, Holders>::iterator user,
                Holders::const_iterator holder);

    mutable std::mutex mutex_;
    std::uint32_t max_total_;
    std::uint32_t max_per_user_;
    std::uint32_t total_ = 0;
    std::unordered_map<std::string, Holders> per_user_;
    // Handed over by hand_over_idle and not yet deleted by their workers.
    std::unordered_set<AllocationId> session_slot_handed_over_;
};

}  // namespace hearth::turn
