#pragma once

// What repeated authentication failures cost their source (a password guesser, a
// misconfigured client in a loop), without ever locking out a valid credential: one
// address is often a whole clinic's guest Wi-Fi or a mobile CGNAT pool, shared by the
// guesser and the participants it could otherwise shut out.
//
// - A username that keeps failing from one source is banned from that source: its
//   requests from there are dropped before any credential check. A guesser burns the
//   usernames it tries; a neighbour's username is untouched.
// - A source that keeps failing over many usernames is throttled: its credentials are
//   still checked (a valid one goes through) but at a bounded rate, and its failures go
//   unanswered. Trying fresh usernames buys no more password checks than that rate.
//
// Fixed tables like SourceRateLimiter's: a flood evicts old entries instead of growing
// memory, entries whose ban is over first. Shared by the workers (a guesser's requests
// spread over them) under a mutex: asked on requests, never on relayed data. An IPv6 source
// counts as its /64 (source_prefix.h).

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>

#include "relay/stun/transport_address.h"
#include "relay/turn/clock.h"

namespace hearth::turn {

class SourceBanList {
  public:
    // Within `window`, `max_failures` failures of one username from one source ban that
    // username from there for `ban`, and `max_source_failures` failures from one source,
    // whatever the usernames, throttle the source for `ban`. 0 disables either.
    SourceBanList(std::uint32_t max_failures, Seconds window, Seconds ban,
                  std::uint32_t max_source_failures)
        : max_failures_(max_failures),
          max_source_failures_(max_source_failures),
          window_(window),
          ban_(ban) {}

    enum class Standing : std::uint8_t { clear, source_throttled, username_banned };
    // The worse of the two for a request from `source` carrying `username` ("" = none).
    Standing standing(const IpAddress& source, std::string_view username, TimePoint now) const;

    // Counts one failure of `username` from `source`; says which ban it started.
    struct Started {
        bool username_ban = false;
        bool source_throttle = false;
    };
    Started record_failure(const IpAddress& source, std::string_view username, TimePoint now);

    Seconds ban_duration() const;
    // Reload: the thresholds for failures from now on; bans in force run their course.
    void configure(std::uint32_t max_failures, Seconds window, Seconds ban,
                   std::uint32_t max_source_failures);

  private:
    struct Entry {
        IpAddress source;
        std::uint64_t username = 0;  // a hash of it; 0 in the table of sources
        TimePoint window_start;
        TimePoint banned_until;
        std::uint32_t failures = 0;
        bool used = false;
    };
    static constexpr std::size_t probe_limit = 4;
    // A guesser fills the table of usernames faster than that of sources, so it is larger.
    static constexpr std::size_t source_table_size = 1024;    // a power of two
    static constexpr std::size_t username_table_size = 4096;  // a power of two

    static const Entry* find(std::span<const Entry> table, const IpAddress& source,
                             std::uint64_t username);
    static Entry& find_or_take(std::span<Entry> table, const IpAddress& source,
                               std::uint64_t username, TimePoint now);
    bool count_failure(Entry& entry, std::uint32_t max_failures, TimePoint now) const;

    mutable std::mutex mutex_;

    std::uint32_t max_failures_;
    std::uint32_t max_source_failures_;
    Seconds window_;
    Seconds ban_;
    std::array<Entry, source_table_size> sources_{};
    std::array<Entry, username_table_size> usernames_{};
};

}  // namespace hearth::turn
