// Vetting the peers a client names in CreatePermission, ChannelBind and Connect, and
// counting the peers the policy refuses (also on the Send indication's drop path).

#include "relay/turn/turn_server.h"

namespace hearth::turn {

void TurnServer::count_peer_refusal(Allocation& allocation, const IpAddress& peer,
                                    PeerRefusal refusal) {
    ++counters_.peer_policy_refusals;
    ++allocation.client_to_peer.dropped_peer_policy;
    // Logged once per allocation: a client probing address after address is one story,
    // and its log lines must not be the client's to multiply. The counters say the rest.
    if (!allocation.peer_refusal_logged) {
        allocation.peer_refusal_logged = true;
        events_.peer_refused(allocation, peer, refusal);
    }
}

std::optional<RequestRefusal> TurnServer::vet_peer(Allocation& allocation,
                                                   const TransportAddress& peer) {
    // The policy first: a refused address gets 403 in whatever form it is written.
    const PeerRefusal refusal = peer_policy_.check(peer);
    if (refusal != PeerRefusal::none) {
        count_peer_refusal(allocation, peer.ip, refusal);
        return RequestRefusal{TurnError::forbidden, "peer refused by the peer policy"};
    }
    // RFC 8656 §10.2, §12.2: the peer must be of a family the allocation relays.
    if (allocation.relay_for(peer.ip.family) == nullptr) {
        return RequestRefusal{TurnError::peer_address_family_mismatch,
                              "peer family differs from the relayed address"};
    }
    return std::nullopt;
}

}  // namespace hearth::turn
