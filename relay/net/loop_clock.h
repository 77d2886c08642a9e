#pragma once

// The time as a worker's parts see it: the event loop's cached clock, read once per batch
// of packets (DESIGN.md "Time"), handed to the state machine as turn::Now.

#include <event2/event.h>

#include "relay/turn/clock.h"

namespace hearth::relay {

class LoopClock {
  public:
    explicit LoopClock(event_base* base) : base_(base) {}
    turn::Now now() const {
        timeval wall;
        event_base_gettimeofday_cached(base_, &wall);
        return turn::Now{turn::Clock::now(), wall.tv_sec};
    }

  private:
    event_base* base_;
};

}  // namespace hearth::relay
