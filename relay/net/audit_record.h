#pragma once

// Each allocation event of the state machine as one audit line (README "Audit trail",
// docs/audit-event.schema.json): who (session, user), from where (client address and
// transport), relayed where (relayed addresses, peer), for how long and how much. Pure
// functions of the event and a stamp, so every field is testable without a socket.

#include <chrono>
#include <string>
#include <string_view>

#include "relay/turn/allocation.h"
#include "relay/turn/allocation_events.h"

namespace hearth::relay {

// What every line carries beside the event: the wall-clock time written in it, the node
// that wrote it, and the monotonic time durations are measured against.
struct AuditStamp {
    std::chrono::system_clock::time_point wall;
    std::string_view node;
    turn::TimePoint now;
};

std::string audit_allocation_created(const AuditStamp& stamp, const turn::Allocation& allocation);
std::string audit_allocation_refreshed(const AuditStamp& stamp, const turn::Allocation& allocation,
                                       turn::Seconds lifetime);
std::string audit_allocation_deleted(const AuditStamp& stamp, const turn::Allocation& allocation,
                                     turn::DeleteReason reason);
// A refused Allocate; session and user only when its credential was valid.
std::string audit_allocation_refused(const AuditStamp& stamp, const turn::RefusedRequest& refused);
std::string audit_permission_first_used(const AuditStamp& stamp, const turn::Allocation& allocation,
                                        const TransportAddress& peer, turn::Direction direction);
std::string audit_channel_first_used(const AuditStamp& stamp, const turn::Allocation& allocation,
                                     const turn::ChannelBinding& channel,
                                     turn::Direction direction);

}  // namespace hearth::relay
