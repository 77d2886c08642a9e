// Refresh (RFC 8656 §7.3).

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/lifetime.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
using stun::Method;
namespace attribute = stun::attribute;

TurnServer::StunOutcome TurnServer::handle_refresh(Request& request) {
    Allocation& allocation = *request.allocation;
    const auto& message = request.message;
    if (const auto value = message.find(attribute::requested_address_family)) {
        const auto family = stun::decode_address_family(*value);
        if (!family || allocation.relay_for(*family) == nullptr) {
            return error_response(request, TurnError::peer_address_family_mismatch,
                                  "no relayed address of that family");
        }
    }

    const auto requested = requested_lifetime(message);
    Seconds lifetime{0};
    if (requested != Seconds{0}) {
        const SessionRefusal refusal =
            authenticator_.check_session(allocation.owner(), request.now.unix_seconds);
        if (refusal == SessionRefusal::pending) {
            StunOutcome parked;
            parked.waiting_for =
                StoreQuestion{StoreQuestion::Kind::check, allocation.owner().session_id,
                              allocation.owner().user_id};
            return parked;
        }
        // The session was live when this allocation was admitted, and a revocation tears
        // it down when one comes (even one published while the store was out: the store
        // reads every session again once it answers). So a store that cannot answer never
        // ends a call in progress: its Refresh is honoured, and counted.
        if (refusal == SessionRefusal::store_unavailable) {
            ++counters_.refreshes_without_store;
        } else if (refusal != SessionRefusal::none) {
            ++counters_.session_refusals;
            auto refused = error_response(request, TurnError::unauthorized, to_string(refusal));
            destroy(allocation, DeleteReason::revoked);
            return refused;
        }
        lifetime = granted_lifetime(requested, settings_.lifetime_default, settings_.lifetime_max);
    }

    MessageBuilder builder(response_buffer_, Method::refresh, MessageClass::success_response,
                           message.transaction_id());
    builder.add_u32(attribute::lifetime, static_cast<std::uint32_t>(lifetime.count()));
    builder.add_string(attribute::software, settings_.software);
    builder.add_integrity(request.credentials->key);
    builder.add_fingerprint();

    if (lifetime.count() == 0) {
        destroy(allocation, DeleteReason::client_request);  // RFC 8656 §7.3
    } else {
        allocation.expires = request.now.monotonic + lifetime;
        events_.allocation_refreshed(allocation, lifetime);
    }
    return StunOutcome::reply(builder.finish());
}

}  // namespace hearth::turn
