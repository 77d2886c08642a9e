#pragma once

// When an allocation last relayed a packet, readable from another worker: the per-user cap
// (allocation_quota.h) lets a rejoining user's Allocate replace an allocation that has been
// idle for a while, and that allocation may live on any worker.

#include <atomic>
#include <cstdint>

#include "relay/turn/clock.h"

namespace hearth::turn {

using AllocationId = std::uint64_t;

class RelayActivity {
  public:
    // A new allocation counts as active from its creation: it has had no time to relay.
    explicit RelayActivity(TimePoint created) : last_(created.time_since_epoch().count()) {}

    // The packet path: a relaxed store of a time it already holds, no lock, no fence. The
    // reader needs no ordering with anything else, only a value that is not torn.
    void note_relayed(TimePoint now) {
        last_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    }
    TimePoint last_relayed() const {
        return TimePoint(TimePoint::duration(last_.load(std::memory_order_relaxed)));
    }

  private:
    std::atomic<TimePoint::rep> last_;
};

}  // namespace hearth::turn
