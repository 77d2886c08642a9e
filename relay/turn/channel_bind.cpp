// ChannelBind (RFC 8656 §12.2).

#include "relay/stun/attributes.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
namespace attribute = stun::attribute;

TurnServer::StunOutcome TurnServer::handle_channel_bind(Request& request) {
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
    if (const auto refusal = vet_peer(allocation, *peer)) {
        return error_response(request, refusal->error, refusal->why);
    }
    switch (allocation.bind_channel(*number, *peer, request.now.monotonic)) {
        case Allocation::BindResult::bound:
        case Allocation::BindResult::refreshed:
            allocation.channel_by_number(*number, request.now.monotonic)->peer_is_other_allocation =
                peer_policy_.is_other_allocation(*peer);
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
    builder.add_integrity(request.credentials->key);
    builder.add_fingerprint();
    return StunOutcome::reply(builder.finish());
}

}  // namespace hearth::turn
