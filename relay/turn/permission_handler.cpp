// CreatePermission (RFC 8656 §10) and ChannelBind (§12.2).

#include <array>

#include "relay/stun/attributes.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
namespace attribute = stun::attribute;

namespace {
const char* why_refused(TurnError error) {
    return error == TurnError::forbidden ? "peer refused by the peer policy"
                                         : "peer family differs from the relayed address";
}
}  // namespace

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

std::optional<TurnError> TurnServer::vet_peer(Allocation& allocation,
                                              const TransportAddress& peer) {
    // The policy first: a refused address gets 403 in whatever form it is written.
    const PeerRefusal refusal = peer_policy_.check(peer.ip);
    if (refusal != PeerRefusal::none) {
        count_peer_refusal(allocation, peer.ip, refusal);
        return TurnError::forbidden;
    }
    // RFC 8656 §10.2, §12.2: the peer must be of a family the allocation relays.
    if (allocation.relay_for(peer.ip.family) == nullptr) {
        return TurnError::peer_address_family_mismatch;
    }
    return std::nullopt;
}

stun::Bytes TurnServer::handle_create_permission(Request& request) {
    Allocation& allocation = *request.allocation;
    const auto& message = request.message;
    // RFC 8656 §10.2: every XOR-PEER-ADDRESS is checked before any permission is installed.
    std::array<IpAddress, stun::max_attributes> peers{};
    std::size_t peer_count = 0;
    for (const auto& raw : message.attributes()) {
        if (raw.type != attribute::xor_peer_address) {
            continue;
        }
        const auto peer = stun::decode_xor_address(raw.value, message.transaction_id());
        if (!peer) {
            return error_response(request, TurnError::bad_request, "malformed XOR-PEER-ADDRESS");
        }
        if (const auto error = vet_peer(allocation, *peer)) {
            return error_response(request, *error, why_refused(*error));
        }
        peers[peer_count++] = peer->ip;
    }
    if (peer_count == 0) {
        return error_response(request, TurnError::bad_request, "no XOR-PEER-ADDRESS");
    }
    for (std::size_t i = 0; i < peer_count; ++i) {
        if (!allocation.install_permission(peers[i], request.now.monotonic)) {
            return error_response(request, TurnError::insufficient_capacity,
                                  "permission table full");
        }
    }
    MessageBuilder builder(response_buffer_, stun::Method::create_permission,
                           MessageClass::success_response, message.transaction_id());
    builder.add_string(attribute::software, settings_.software);
    builder.add_message_integrity(request.credentials->key);
    builder.add_fingerprint();
    return builder.finish();
}

stun::Bytes TurnServer::handle_channel_bind(Request& request) {
    Allocation& allocation = *request.allocation;
    const auto& message = request.message;
    if (allocation.relay_protocol != RelayProtocol::udp) {
        return error_response(request, TurnError::bad_request, "channels need a UDP allocation");
    }
    const auto number_value = message.find(attribute::channel_number);
    const auto peer_value = message.find(attribute::xor_peer_address);
    if (!number_value || !peer_value) {
        return error_response(request, TurnError::bad_request,
                              "CHANNEL-NUMBER and XOR-PEER-ADDRESS are required");
    }
    const auto number = stun::decode_channel_number(*number_value);
    if (!number || !stun::is_valid_channel_number(*number)) {
        return error_response(request, TurnError::bad_request, "channel number out of range");
    }
    const auto peer = stun::decode_xor_address(*peer_value, message.transaction_id());
    if (!peer) {
        return error_response(request, TurnError::bad_request, "malformed XOR-PEER-ADDRESS");
    }
    if (const auto error = vet_peer(allocation, *peer)) {
        return error_response(request, *error, why_refused(*error));
    }
    switch (allocation.bind_channel(*number, *peer, request.now.monotonic)) {
        case Allocation::BindResult::bound:
        case Allocation::BindResult::refreshed:
            break;
        case Allocation::BindResult::number_in_use:
            return error_response(request, TurnError::bad_request, "channel bound to another peer");
        case Allocation::BindResult::peer_in_use:
            return error_response(request, TurnError::bad_request, "peer bound to another channel");
        case Allocation::BindResult::table_full:
            return error_response(request, TurnError::insufficient_capacity,
                                  "channel or permission table full");
    }
    MessageBuilder builder(response_buffer_, stun::Method::channel_bind,
                           MessageClass::success_response, message.transaction_id());
    builder.add_string(attribute::software, settings_.software);
    builder.add_message_integrity(request.credentials->key);
    builder.add_fingerprint();
    return builder.finish();
}

}  // namespace hearth::turn
