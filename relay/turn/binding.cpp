// Binding (RFC 8489 §6.3.1): the one request answered without credentials, so it is
// rate-limited per source and its answer kept small (max_unauthenticated_growth).

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
using stun::Method;
namespace attribute = stun::attribute;

stun::Bytes TurnServer::handle_binding(const stun::MessageView& message, const FiveTuple& tuple,
                                       TimePoint now) {
    ++counters_.binding_requests;
    if (!shared_.unauthenticated_requests.allow(tuple.client.ip, now)) {
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
        return error.finish();
    }
    builder.add_xor_address(attribute::xor_mapped_address, tuple.client);
    builder.add_fingerprint();  // no SOFTWARE: see max_unauthenticated_growth
    return builder.finish();
}

}  // namespace hearth::turn
