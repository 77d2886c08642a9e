#pragma once

// Temporary bans of source addresses that keep failing authentication (a password guesser,
// a misconfigured client in a loop). A fixed table like SourceRateLimiter's: a flood of
// sources evicts old entries instead of growing memory. Shared by the workers (a guesser's
// requests spread over them) under a mutex: it is asked on requests, never on relayed data.
// An IPv6 source counts as its /64 (source_prefix.h).

#include <array>
#include <cstdint>
#include <mutex>

#include "relay/stun/transport_address.h"
#include "relay/turn/clock.h"

namespace hearth::turn {

class SourceBanList {
  public:
    // `max_failures` within `window` bans the source for `ban`; 0 failures disables bans.
    SourceBanList(std::uint32_t max_failures, Seconds window, Seconds ban)
        : max_failures_(max_failures), window_(window), ban_(ban) {}

    // Counts one failure; true when this one starts a ban.
    bool record_failure(const IpAddress& source, TimePoint now);
    bool banned(const IpAddress& source, TimePoint now) const;
    Seconds ban_duration() const;
    // Reload: the thresholds for failures from now on; bans in force run their course.
    void configure(std::uint32_t max_failures, Seconds window, Seconds ban);

  private:
    struct Entry {
        IpAddress source;
        TimePoint window_start;
        TimePoint banned_until;
        std::uint32_t failures = 0;
        bool used = false;
    };
    static constexpr std::size_t table_size = 1024;  // a power of two
    static constexpr std::size_t probe_limit = 4;
    const Entry* find(const IpAddress& source) const;

    mutable std::mutex mutex_;

    std::uint32_t max_failures_;
    Seconds window_;
    Seconds ban_;
    std::array<Entry, table_size> entries_{};
};

}  // namespace hearth::turn
