// The state machine's side of the kernel fast path (fast_path.h): which channels are
// offered, and how what the fast path carried joins the counters the packet path keeps.

#include "relay/turn/turn_server.h"

namespace hearth::turn {

void TurnServer::offer_fast_path_now(Allocation& allocation, ChannelBinding& binding,
                                     const RelayEndpoint& relay, TimePoint until) {
    binding.offered_until = until;
    // The fast path rewrites UDP datagrams in place: a TCP or TLS client's ChannelData
    // (RFC 8656 §12.5, padded, in a stream) and a change of address family (it would have
    // to rebuild the IP header) stay here.
    if (allocation.five_tuple().transport != ClientTransport::udp ||
        allocation.five_tuple().client.ip.family != relay.address.ip.family) {
        return;
    }
    fast_path_->offer(allocation, binding, relay, until);
}

void TurnServer::add_fast_path_counts(Allocation& allocation, const FastPathCounts& carried) {
    allocation.client_to_peer.packets += carried.to_peer_packets;
    allocation.client_to_peer.fast_path_packets += carried.to_peer_packets;
    allocation.client_to_peer.bytes += carried.to_peer_bytes;
    allocation.peer_to_client.packets += carried.to_client_packets;
    allocation.peer_to_client.fast_path_packets += carried.to_client_packets;
    allocation.peer_to_client.bytes += carried.to_client_bytes;
    if (carried.to_peer_packets + carried.to_client_packets != 0) {
        // Collected at most a second late: the idle measures (rejoin) allow for it.
        allocation.activity->note_relayed(Clock::now());
    }
}

void TurnServer::withdraw_fast_path(Allocation& allocation) {
    if (fast_path_ != nullptr) {
        add_fast_path_counts(allocation, fast_path_->withdraw(allocation));
        allocation.forget_fast_path_offers();
    }
}

void TurnServer::collect_fast_path() {
    if (fast_path_ != nullptr) {
        fast_path_->collect([this](Allocation& allocation, const FastPathCounts& carried) {
            add_fast_path_counts(allocation, carried);
        });
    }
}

}  // namespace hearth::turn
