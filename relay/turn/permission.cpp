// CreatePermission (RFC 8656 §10).

#include <array>

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
namespace attribute = stun::attribute;

TurnServer::StunOutcome TurnServer::handle_create_permission(Request& request) {
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
        if (const auto refusal = vet_peer(allocation, *peer)) {
            return error_response(request, refusal->error, refusal->why);
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
    builder.add_integrity(request.credentials->key);
    builder.add_fingerprint();
    return StunOutcome::reply(builder.finish());
}

}  // namespace hearth::turn
