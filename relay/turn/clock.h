#pragma once

#include <chrono>
#include <cstdint>

namespace hearth::turn {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Seconds = std::chrono::seconds;

// The time as the state machine sees it: a monotonic instant for lifetimes, and the
// wall clock in Unix seconds for credential expiry. Read once per batch by the I/O layer.
struct Now {
    TimePoint monotonic;
    std::int64_t unix_seconds = 0;
};

}  // namespace hearth::turn
