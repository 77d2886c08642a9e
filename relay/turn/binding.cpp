// Binding (RFC 8489 §6.3.1): the one request answered without credentials, so it is
// rate-limited per source and its answer kept small (max_unauthenticated_answer).

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
using stun::Method;
namespace attribute = stun::attribute;

TurnServer::StunOutcome TurnServer::handle_binding(Request& request) {
    const auto& message = request.message;
    ++counters_.binding_requests;
    if (!message.unknown_comprehension_required().empty()) {
        return unauthenticated_error(message, request.tuple, TurnError::unknown_attribute,
                                     "unknown comprehension-required attribute", request.now);
    }
    if (!shared_.unauthenticated_requests.allow(request.tuple.client.ip, request.now.monotonic)) {
        ++counters_.rate_limited;
        return {};
    }
    MessageBuilder builder(response_buffer_, Method::binding, MessageClass::success_response,
                           message.transaction_id());
    builder.add_xor_address(attribute::xor_mapped_address, request.tuple.client);
    // A Binding that brought credentials had them checked (turn_server.cpp): its answer is
    // signed, so the client can trust the address in it.
    if (request.credentials) {
        builder.add_integrity(request.credentials->key);
    }
    builder.add_fingerprint();  // no SOFTWARE: see max_unauthenticated_answer
    return StunOutcome::reply(builder.finish());
}

}  // namespace hearth::turn
