#pragma once

// Per-source-address token buckets for unauthenticated requests, for Allocates and for
// the requests that keep an allocation up (DESIGN.md "Security defaults"). A fixed table: a
// flood from many addresses evicts old entries instead of growing memory, so the bound holds
// whatever the attacker does. An IPv6 source counts as its /64 (source_prefix.h). Shared by
// the workers: the kernel spreads one address's UDP datagrams over them by source port, and a
// limit per worker would be the limit times the workers. Locked once per request it limits,
// never per relayed packet.

#include <array>
#include <cstdint>
#include <mutex>

#include "relay/stun/transport_address.h"
#include "relay/turn/clock.h"

namespace hearth::turn {

class SourceRateLimiter {
  public:
    // `per_second` requests a second with a burst of the same size; 0 disables the limit.
    explicit SourceRateLimiter(std::uint32_t per_second = 0) : per_second_(per_second) {}

    // Takes one token for `source`; false when its bucket is empty.
    bool allow(const IpAddress& source, TimePoint now);
    // Returns the token of a request that will come again (one set aside while the
    // session store answers), so that it is counted once.
    void give_back(const IpAddress& source);
    std::uint64_t refused() const;
    void set_rate(std::uint32_t per_second);

  private:
    struct Bucket {
        IpAddress source;
        TimePoint refilled;
        double tokens = 0;
        bool used = false;
    };
    static constexpr std::size_t table_size = 4096;  // a power of two
    static constexpr std::size_t probe_limit = 4;

    Bucket* find(const IpAddress& source, std::size_t hash);

    mutable std::mutex mutex_;
    std::uint32_t per_second_;
    std::array<Bucket, table_size> buckets_{};
    std::uint64_t refused_ = 0;
};

}  // namespace hearth::turn
