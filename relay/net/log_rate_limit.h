#pragma once

// A cap on how many lines of one kind a worker writes a second, so that a client
// repeating a bad request cannot flood the log. What is left out is not lost: the next
// line written says how many were.

#include <cstdint>

#include "relay/turn/clock.h"

namespace hearth::relay {

class LogRateLimit {
  public:
    explicit LogRateLimit(std::uint32_t per_second) : per_second_(per_second) {}

    // True when a line may be written at `now`. `left_out` is then the number of lines
    // refused since the last one allowed.
    bool allow(turn::TimePoint now, std::uint64_t& left_out);

  private:
    std::uint32_t per_second_;
    turn::TimePoint window_start_{};
    std::uint32_t written_in_window_ = 0;
    std::uint64_t left_out_ = 0;
};

}  // namespace hearth::relay
