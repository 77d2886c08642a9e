#include "relay/net/audit_record.h"

#include <vector>

#include "relay/net/audit_line.h"

namespace hearth::relay {

namespace {

std::vector<std::string> relayed_addresses(const turn::Allocation& allocation) {
    std::vector<std::string> addresses;
    for (const auto* relay :
         {allocation.relay_for(AddressFamily::ipv4), allocation.relay_for(AddressFamily::ipv6)}) {
        if (relay != nullptr) {
            addresses.push_back(relay->address.to_string());
        }
    }
    return addresses;
}

std::int64_t whole_seconds(turn::TimePoint::duration elapsed) {
    return std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
}

AuditLine begin(const AuditStamp& stamp, std::string_view event) {
    AuditLine line;
    line.field("time", rfc3339_utc(stamp.wall)).field("node", stamp.node).field("event", event);
    return line;
}

// The fields every event of an allocation has: which one, whose, from where, relayed
// where, and how long it has lived.
AuditLine begin_allocation(const AuditStamp& stamp, std::string_view event,
                           const turn::Allocation& allocation) {
    AuditLine line = begin(stamp, event);
    const auto& owner = allocation.owner();
    line.field("allocation", static_cast<std::uint64_t>(allocation.id()))
        .field("session", owner.session_id)
        .field("user", owner.user_id)
        .field("client", allocation.five_tuple().client.to_string())
        .field("transport", turn::to_string(allocation.five_tuple().transport))
        .field("relayed", relayed_addresses(allocation))
        .field("duration_s", whole_seconds(stamp.now - allocation.created));
    return line;
}

void traffic(AuditLine& line, std::string_view name, const turn::DirectionCounters& counters) {
    line.begin_object(name)
        .field("bytes", counters.bytes)
        .field("packets", counters.packets)
        .field("dropped", counters.dropped())
        .end_object();
}

}  // namespace

std::string audit_allocation_created(const AuditStamp& stamp, const turn::Allocation& allocation) {
    return begin_allocation(stamp, "allocation_created", allocation)
        .field("lifetime_s", whole_seconds(allocation.expires - allocation.created))
        .finish();
}

std::string audit_allocation_refreshed(const AuditStamp& stamp, const turn::Allocation& allocation,
                                       turn::Seconds lifetime) {
    return begin_allocation(stamp, "allocation_refreshed", allocation)
        .field("lifetime_s", static_cast<std::int64_t>(lifetime.count()))
        .finish();
}

std::string audit_allocation_deleted(const AuditStamp& stamp, const turn::Allocation& allocation,
                                     turn::DeleteReason reason) {
    AuditLine line = begin_allocation(stamp, "allocation_deleted", allocation);
    line.field("reason", turn::name_of(reason));
    traffic(line, "to_peer", allocation.client_to_peer);
    traffic(line, "to_client", allocation.peer_to_client);
    return line.finish();
}

std::string audit_allocation_refused(const AuditStamp& stamp, const turn::RefusedRequest& refused) {
    AuditLine line = begin(stamp, "allocation_refused");
    if (refused.owner != nullptr) {
        line.field("session", refused.owner->session_id).field("user", refused.owner->user_id);
    }
    return line.field("client", refused.tuple.client.to_string())
        .field("transport", turn::to_string(refused.tuple.transport))
        .field("error", turn::code_of(refused.error))
        .field("reason", refused.why)
        .finish();
}

std::string audit_permission_first_used(const AuditStamp& stamp, const turn::Allocation& allocation,
                                        const TransportAddress& peer, turn::Direction direction) {
    return begin_allocation(stamp, "permission_first_used", allocation)
        .field("peer", peer.to_string())
        .field("direction", turn::to_string(direction))
        .finish();
}

std::string audit_channel_first_used(const AuditStamp& stamp, const turn::Allocation& allocation,
                                     const turn::ChannelBinding& channel,
                                     turn::Direction direction) {
    return begin_allocation(stamp, "channel_first_used", allocation)
        .field("peer", channel.peer.to_string())
        .field("channel", static_cast<std::int64_t>(channel.number))
        .field("direction", turn::to_string(direction))
        .finish();
}

}  // namespace hearth::relay
