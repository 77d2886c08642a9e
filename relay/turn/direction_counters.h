#pragma once

// One direction of an allocation's traffic (client to peer, or peer to client), kept by
// the owning worker without locks, with its table (counter_table.h).

#include <array>
#include <cstdint>

#include "relay/turn/counter_table.h"

namespace hearth::turn {

struct DirectionCounters {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t dropped_no_permission = 0;
    std::uint64_t dropped_peer_policy = 0;  // requests naming a refused peer
    std::uint64_t dropped_malformed = 0;
    std::uint64_t dropped_queue_full = 0;  // a stream client too slow to read
    std::uint64_t dropped_bandwidth = 0;   // over the allocation's or the session's bandwidth
    // An RFC 6062 stream held back until the budgets refilled: delayed, nothing dropped.
    std::uint64_t paused_bandwidth = 0;
    // Of `packets`, those the kernel fast path carried (relay/xdp): never woke hearthd.
    std::uint64_t fast_path_packets = 0;
    std::uint64_t dropped() const {
        return dropped_no_permission + dropped_peer_policy + dropped_malformed +
               dropped_queue_full + dropped_bandwidth;
    }
};

// Packets and bytes are exported by direction and client transport (the renderer adds
// those labels); the drops by reason are the node's counters' (server_counters.h).
inline constexpr std::array direction_counter_rows{
    CounterRow<DirectionCounters>{
        "packets", "hearth_relayed_packets_total", "", CounterKind::counter,
        "Packets relayed, by direction and client transport.", &DirectionCounters::packets},
    CounterRow<DirectionCounters>{"bytes", "hearth_relayed_bytes_total", "", CounterKind::counter,
                                  "Payload bytes relayed, by direction and client transport.",
                                  &DirectionCounters::bytes},
    CounterRow<DirectionCounters>{"dropped.no_permission", "", "", CounterKind::counter, "",
                                  &DirectionCounters::dropped_no_permission},
    CounterRow<DirectionCounters>{"dropped.peer_policy", "", "", CounterKind::counter, "",
                                  &DirectionCounters::dropped_peer_policy},
    CounterRow<DirectionCounters>{"dropped.bandwidth", "", "", CounterKind::counter, "",
                                  &DirectionCounters::dropped_bandwidth},
    CounterRow<DirectionCounters>{"dropped.queue_full", "", "", CounterKind::counter, "",
                                  &DirectionCounters::dropped_queue_full},
    CounterRow<DirectionCounters>{"dropped.malformed", "", "", CounterKind::counter, "",
                                  &DirectionCounters::dropped_malformed},
    CounterRow<DirectionCounters>{"paused_bandwidth", "", "", CounterKind::counter, "",
                                  &DirectionCounters::paused_bandwidth},
    CounterRow<DirectionCounters>{
        "fast_path_packets", "hearth_fast_path_relayed_packets_total", "", CounterKind::counter,
        "Of the packets relayed, those the XDP fast path carried, by direction and client "
        "transport.",
        &DirectionCounters::fast_path_packets},
};

}  // namespace hearth::turn
