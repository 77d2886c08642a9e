// RFC 6062 TCP relays: Connect (§5.2) and ConnectionBind (§5.4). The state machine checks
// what the request may do; the I/O layer opens and pairs the TCP connections and answers.

#include <algorithm>

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

namespace attribute = stun::attribute;

TurnServer::StunOutcome TurnServer::handle_connect(Request& request) {
    Allocation& allocation = *request.allocation;
    const auto& message = request.message;
    if (allocation.relay_protocol != RelayProtocol::tcp) {
        return error_response(request, TurnError::bad_request, "Connect on a UDP allocation");
    }
    const auto peer_value = message.find(attribute::xor_peer_address);
    const auto peer =
        peer_value ? stun::decode_xor_address(*peer_value, message.transaction_id()) : std::nullopt;
    if (!peer) {
        return error_response(request, TurnError::bad_request, "no valid XOR-PEER-ADDRESS");
    }
    if (const auto refusal = vet_peer(allocation, *peer)) {
        return error_response(request, refusal->error, refusal->why);
    }
    // Mail and the admin API's port are no TCP relay's business, whatever the address: the
    // relay's address must not become a spammer's, nor reach another node's admin API.
    if (std::ranges::find(settings_.tcp_denied_ports, peer->port) !=
        settings_.tcp_denied_ports.end()) {
        ++counters_.tcp_connect_denied_port;
        return error_response(request, TurnError::forbidden, "peer port denied for TCP relays");
    }
    // The connection the client asks for is as good as a permission for its peer, so the
    // peer's own connections to the relayed address are accepted too.
    if (!allocation.install_permission(peer->ip, request.now.monotonic)) {
        return error_response(request, TurnError::insufficient_capacity, "permission table full");
    }
    StunOutcome outcome;
    outcome.tcp_connect =
        TcpConnect{&allocation, *peer, message.transaction_id(), request.credentials->key};
    return outcome;
}

TurnServer::StunOutcome TurnServer::handle_connection_bind(Request& request) {
    const auto& message = request.message;
    if (request.tuple.transport == ClientTransport::udp) {
        return error_response(request, TurnError::bad_request, "ConnectionBind over UDP");
    }
    if (find(request.tuple) != nullptr) {
        return error_response(request, TurnError::bad_request,
                              "ConnectionBind on a control connection");
    }
    const auto value = message.find(attribute::connection_id);
    const auto connection_id = value ? stun::decode_u32(*value) : std::nullopt;
    if (!connection_id) {
        return error_response(request, TurnError::bad_request, "no valid CONNECTION-ID");
    }
    StunOutcome outcome;
    outcome.tcp_connection_bind =
        TcpConnectionBind{*connection_id, request.credentials->owner.username,
                          message.transaction_id(), request.credentials->key};
    return outcome;
}

stun::Bytes TurnServer::late_answer(stun::Method method, const stun::TransactionId& transaction_id,
                                    const stun::IntegrityKey& key, std::optional<TurnError> error,
                                    std::optional<std::uint32_t> connection_id) {
    stun::MessageBuilder builder(
        response_buffer_, method,
        error ? stun::MessageClass::error_response : stun::MessageClass::success_response,
        transaction_id);
    if (error) {
        ++counters_.error_responses;
        builder.add_error_code(code_of(*error), reason_phrase(*error));
    }
    if (connection_id) {
        builder.add_u32(attribute::connection_id, *connection_id);
    }
    builder.add_string(attribute::software, settings_.software);
    builder.add_integrity(key);
    builder.add_fingerprint();
    return builder.finish();
}

}  // namespace hearth::turn
