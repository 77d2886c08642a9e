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
    // When the request being handled arrived, if earlier than `monotonic`: a request
    // handed in again once the session store answered keeps its first arrival.
    TimePoint received{};
    TimePoint arrival() const { return received == TimePoint{} ? monotonic : received; }
};

}  // namespace hearth::turn
