// The Send indication (RFC 8656 §11.1, §11.2): a client's data for a peer, on the packet
// path like ChannelData. No heap, no lock, no log.

#include "relay/stun/attributes.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

namespace attribute = stun::attribute;

TurnServer::StunOutcome TurnServer::handle_send_indication(const stun::MessageView& message,
                                                           const FiveTuple& tuple, TimePoint now) {
    Allocation* allocation = find(tuple);
    if (allocation == nullptr || allocation->relay_protocol != RelayProtocol::udp) {
        ++counters_.dropped_no_allocation;
        return {};
    }
    const auto peer_value = message.find(attribute::xor_peer_address);
    const auto data = message.find(attribute::data);
    const auto peer =
        peer_value ? stun::decode_xor_address(*peer_value, message.transaction_id()) : std::nullopt;
    if (!peer || !data) {
        ++counters_.malformed_messages;
        ++allocation->client_to_peer.dropped_malformed;
        return {};
    }
    // RFC 8656 §11.2: without a permission for the peer the data is discarded. A refused
    // address can never have one; on this drop path the policy says which it was.
    const RelayEndpoint* relay = allocation->relay_for(peer->ip.family);
    Permission* permission =
        relay == nullptr ? nullptr : allocation->live_permission(peer->ip, now);
    if (permission == nullptr) {
        if (const PeerRefusal refusal = peer_policy_.check(*peer); refusal != PeerRefusal::none) {
            count_peer_refusal(*allocation, peer->ip, refusal);
            return {};
        }
        ++allocation->client_to_peer.dropped_no_permission;
        ++counters_.dropped_no_permission;
        return {};
    }
    // A permission is for an address, any port (RFC 8656 §9): on the relay's own addresses
    // the port still decides (a listener, the admin API).
    if (const PeerRefusal refusal = peer_policy_.check_port(*peer); refusal != PeerRefusal::none) {
        count_peer_refusal(*allocation, peer->ip, refusal);
        return {};
    }
    if (!allocation->within_client_to_peer_budget(data->size(), now)) {
        ++allocation->client_to_peer.dropped_bandwidth;
        ++counters_.dropped_bandwidth;
        return {};
    }
    ++allocation->client_to_peer.packets;
    allocation->client_to_peer.bytes += data->size();
    allocation->activity->note_relayed(now);
    allocation->client_to_peer_media.observe(*data, now);
    if (!permission->used) [[unlikely]] {
        note_first_use(*allocation, *permission, nullptr, *peer, Direction::client_to_peer);
    }
    StunOutcome outcome;
    outcome.to_peer = PeerSend{relay, *peer, *data};
    return outcome;
}

}  // namespace hearth::turn
