#pragma once

// What the state machine reports about allocations: the I/O layer logs it (one line per
// allocation event, never per packet) and writes it to the audit trail.

#include <array>
#include <cstdint>
#include <string_view>

#include "relay/stun/message.h"
#include "relay/turn/allocation.h"
#include "relay/turn/peer_policy.h"
#include "relay/turn/turn_error.h"

namespace hearth::turn {

// replaced: idle, its slot of the per-user cap, or of the session's, given to the user's new
// allocation (rejoin). disconnected: ended by an operator (`hearthctl disconnect`).
enum class DeleteReason : std::uint8_t {
    client_request,
    expired,
    client_gone,
    revoked,
    shutdown,
    replaced,
    disconnected
};
const char* to_string(DeleteReason reason);  // words, for the log
// A name a query can match ("client_request", "replaced"): the audit trail's and the
// session record's.
const char* name_of(DeleteReason reason);
inline constexpr std::array all_delete_reasons{DeleteReason::client_request, DeleteReason::expired,
                                               DeleteReason::client_gone,    DeleteReason::revoked,
                                               DeleteReason::shutdown,       DeleteReason::replaced,
                                               DeleteReason::disconnected};

enum class Direction : std::uint8_t { client_to_peer, peer_to_client };
const char* to_string(Direction direction);

// A request answered with an error: on which 5-tuple, the method, the error, why in words
// for the log, and who asked when the credential was valid (null when it was not, or when
// the request was refused before it was checked).
struct RefusedRequest {
    const FiveTuple& tuple;
    stun::Method method;
    TurnError error;
    std::string_view why;
    const Owner* owner = nullptr;
};

class AllocationEvents {
  public:
    virtual ~AllocationEvents() = default;
    virtual void allocation_created(const Allocation& allocation) = 0;
    virtual void allocation_refreshed(const Allocation& allocation, Seconds lifetime) = 0;
    virtual void allocation_deleted(const Allocation& allocation, DeleteReason reason) = 0;
    virtual void request_refused(const RefusedRequest& refused) = 0;
    virtual void peer_refused(const Allocation& allocation, const IpAddress& peer,
                              PeerRefusal refusal) = 0;
    // `username` failed authentication too often from `source`, and its requests from
    // there are dropped for `ban` (source_ban_list.h).
    virtual void username_banned(const IpAddress& source, std::string_view username,
                                 Seconds ban) = 0;
    // `source` failed authentication too often over several usernames: for `ban`, its
    // credentials are checked at a bounded rate and its failures go unanswered.
    virtual void source_throttled(const IpAddress& source, Seconds ban) = 0;
    // The first packet relayed under a permission, to or from `peer` (the permission
    // covers every port of its address), and the first on a channel binding. Once each.
    virtual void permission_first_used(const Allocation& allocation, const TransportAddress& peer,
                                       Direction direction) = 0;
    virtual void channel_first_used(const Allocation& allocation, const ChannelBinding& channel,
                                    Direction direction) = 0;
};

}  // namespace hearth::turn
