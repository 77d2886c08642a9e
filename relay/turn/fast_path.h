#pragma once

// How the state machine hands bound channels to a kernel fast path (relay/xdp) and takes
// them back. The state machine stays the authority: a channel is offered only after a
// packet on it passed every check in userspace, with the moment its permission, binding
// or allocation runs out, and it is withdrawn the moment anything about the allocation
// changes. What the fast path carried is added to the same counters the packet path
// keeps (collect_fast_path in turn_server.h).

#include <cstdint>
#include <functional>

#include "relay/turn/allocation.h"

namespace hearth::turn {

// Carried by the fast path since the last collection, for one allocation.
struct FastPathCounts {
    std::uint64_t to_peer_packets = 0;
    std::uint64_t to_peer_bytes = 0;
    std::uint64_t to_client_packets = 0;
    std::uint64_t to_client_bytes = 0;
    bool any() const { return (to_peer_packets | to_client_packets) != 0; }
};

class FastPath {
  public:
    virtual ~FastPath() = default;
    // `channel` of `allocation`, relayed from `relay`, may be carried until `until`. Only
    // UDP clients and peers of the client's family are offered (TurnServer checks). The
    // bandwidth budgets stay the allocation's: the fast path spends bytes granted from
    // them ahead (Allocation::grant_*) and gives back what it did not spend.
    virtual void offer(Allocation& allocation, const ChannelBinding& channel,
                       const RelayEndpoint& relay, TimePoint until) = 0;
    // Nothing more of `allocation` is carried once this returns; what was carried since
    // the last collection is returned.
    virtual FastPathCounts withdraw(Allocation& allocation) = 0;
    // Hands `add` what each allocation carried since the last collection.
    virtual void collect(const std::function<void(Allocation&, const FastPathCounts&)>& add) = 0;
};

}  // namespace hearth::turn
