// GET /v1/allocations[?session=S&user=U] and GET /v1/allocations/{id}: the live
// allocations of every worker with their counters; POST /v1/allocations/{id}/disconnect:
// ending one.

#include "admin/counter_rendering.h"
#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

Json direction(const turn::DirectionCounters& counters, std::uint64_t bits_per_second,
               const turn::MediaTotals& media) {
    CounterFields fields;
    fields.add_rows(turn::direction_counter_rows, counters);
    Json json = Json::object();
    fields.write(json);
    json["bits_per_second"] = bits_per_second;
    json["rtp"] = {{"sources", media.sources},
                   {"expected", media.rtp_expected},
                   {"received", media.rtp_received},
                   {"lost", media.rtp_lost},
                   {"jitter_ms", media.jitter_milliseconds}};
    return json;
}

Json allocation_json(const relay::AllocationSnapshot& allocation) {
    return {{"id", allocation.id},
            {"session", allocation.session_id},
            {"user", allocation.user_id},
            {"client", allocation.client},
            {"transport", allocation.transport},
            {"relayed", allocation.relayed},
            {"age_seconds", allocation.age_seconds},
            {"lifetime_remaining_seconds", allocation.lifetime_remaining_seconds},
            {"permissions", static_cast<std::uint64_t>(allocation.permissions)},
            {"channels", static_cast<std::uint64_t>(allocation.channels)},
            {"quality", allocation.quality},
            {"client_to_peer", direction(allocation.client_to_peer, allocation.client_to_peer_bps,
                                         allocation.client_to_peer_media)},
            {"peer_to_client", direction(allocation.peer_to_client, allocation.peer_to_client_bps,
                                         allocation.peer_to_client_media)}};
}

}  // namespace

void list_allocations(const RouteCall& call) {
    const std::string session = query_parameter(call.query, "session");
    const std::string user = query_parameter(call.query, "user");
    call.control.collect(
        [session, user, respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
            Json list = Json::array();
            for (const auto& worker : workers) {
                for (const auto& allocation : worker.allocations) {
                    if ((session.empty() || allocation.session_id == session) &&
                        (user.empty() || allocation.user_id == user)) {
                        list.push_back(allocation_json(allocation));
                    }
                }
            }
            respond(json_reply(200, {{"allocations", std::move(list)}}));
        });
}

void get_allocation(const RouteCall& call) {
    call.control.collect([id = call.request.allocation_id,
                          respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
        for (const auto& worker : workers) {
            for (const auto& allocation : worker.allocations) {
                if (allocation.id == id) {
                    respond(json_reply(200, allocation_json(allocation)));
                    return;
                }
            }
        }
        respond(error_reply(404, "no such allocation"));
    });
}

// The allocation ends like any other (log line, audit trail, session record), with the
// reason "disconnected"; its client learns of it at its next Refresh (437, RFC 8656 §7.3).
void disconnect_allocation(const RouteCall& call) {
    const std::uint64_t id = call.request.allocation_id;
    call.control.disconnect_allocation(id, [id, respond = call.respond](bool found) {
        if (!found) {
            respond(error_reply(404, "no such allocation"));
            return;
        }
        respond(json_reply(200, {{"disconnected", id}}));
    });
}

}  // namespace hearth::admin::routes
