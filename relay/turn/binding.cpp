// Binding (RFC 8489 §6.3.1): the one request answered without credentials, so it is
// rate-limited per source and its answer kept small (max_unauthenticated_growth).

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
    if (!shared_.unauthenticated_requests.allow(request.tuple.client.ip, request.now.monotonic)) {
        ++counters_.rate_limited;
        return {};
    }
    MessageBuilder builder(response_buffer_, Method::binding, MessageClass::success_response,
                           message.transaction_id());
    if (!message.unknown_comprehension_required().empty()) {
        MessageBuilder error(response_buffer_, Method::binding, MessageClass::error_response,
                             message.transaction_id());
        error.add_error_code(code_of(TurnError::unknown_attribute),
                             reason_phrase(TurnError::unknown_attribute));
        error.add_unknown_attributes(message.unknown_comprehension_required());
        error.add_fingerprint();
        ++counters_.error_responses;
        return StunOutcome::reply(error.finish());
    }
    builder.add_xor_address(attribute::xor_mapped_address, request.tuple.client);
    builder.add_fingerprint();  // no SOFTWARE: see max_unauthenticated_growth
    return StunOutcome::reply(builder.finish());
}

}  // namespace hearth::turn
