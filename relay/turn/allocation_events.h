#pragma once

// What the state machine reports about allocations: the I/O layer logs it (one line per
// allocation event, never per packet) and feeds the audit trail.

#include <string_view>

#include "relay/stun/message.h"
#include "relay/turn/allocation.h"
#include "relay/turn/peer_policy.h"
#include "relay/turn/turn_error.h"

namespace hearth::turn {

enum class DeleteReason : std::uint8_t { client_request, expired, client_gone, revoked, shutdown };
const char* to_string(DeleteReason reason);

class AllocationEvents {
  public:
    virtual ~AllocationEvents() = default;
    virtual void allocation_created(const Allocation& allocation) = 0;
    virtual void allocation_refreshed(const Allocation& allocation, Seconds lifetime) = 0;
    virtual void allocation_deleted(const Allocation& allocation, DeleteReason reason) = 0;
    // A request answered with an error; `why` names the reason in words for the log.
    virtual void request_refused(const FiveTuple& tuple, stun::Method method, TurnError error,
                                 std::string_view why) = 0;
    virtual void peer_refused(const Allocation& allocation, const IpAddress& peer,
                              PeerRefusal refusal) = 0;
    // `username` failed authentication too often from `source`, and its requests from
    // there are dropped for `ban` (source_ban_list.h).
    virtual void username_banned(const IpAddress& source, std::string_view username,
                                 Seconds ban) = 0;
    // `source` failed authentication too often over several usernames: for `ban`, its
    // credentials are checked at a bounded rate and its failures go unanswered.
    virtual void source_throttled(const IpAddress& source, Seconds ban) = 0;
};

}  // namespace hearth::turn
