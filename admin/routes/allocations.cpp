// GET /v1/allocations[?session=S&user=U] and GET /v1/allocations/{id}: the live
// allocations of every worker with their counters.

#include "admin/counter_rendering.h"
#include "admin/json_writer.h"
#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

void write_direction(JsonWriter& json, const char* name, const turn::DirectionCounters& counters,
                     std::uint64_t bits_per_second, const turn::MediaTotals& media) {
    CounterFields fields;
    fields.add_rows(turn::direction_counter_rows, counters);
    json.key(name).begin_object();
    fields.write(json);
    json.field("bits_per_second", bits_per_second);
    json.key("rtp")
        .begin_object()
        .field("sources", media.sources)
        .field("expected", media.rtp_expected)
        .field("received", media.rtp_received)
        .field("lost", media.rtp_lost)
        .field("jitter_ms", media.jitter_milliseconds)
        .end_object();
    json.end_object();
}

void write_allocation(JsonWriter& json, const relay::AllocationSnapshot& allocation) {
    json.begin_object()
        .field("id", allocation.id)
        .field("session", allocation.session_id)
        .field("user", allocation.user_id)
        .field("client", allocation.client)
        .field("transport", allocation.transport);
    json.key("relayed").begin_array();
    for (const auto& relayed : allocation.relayed) {
        json.value(relayed);
    }
    json.end_array()
        .field("age_seconds", allocation.age_seconds)
        .field("lifetime_remaining_seconds", allocation.lifetime_remaining_seconds)
        .field("permissions", static_cast<std::uint64_t>(allocation.permissions))
        .field("channels", static_cast<std::uint64_t>(allocation.channels));
    json.field("quality", allocation.quality);
    write_direction(json, "client_to_peer", allocation.client_to_peer,
                    allocation.client_to_peer_bps, allocation.client_to_peer_media);
    write_direction(json, "peer_to_client", allocation.peer_to_client,
                    allocation.peer_to_client_bps, allocation.peer_to_client_media);
    json.end_object();
}

}  // namespace

void list_allocations(const RouteCall& call) {
    const std::string session = query_parameter(call.query, "session");
    const std::string user = query_parameter(call.query, "user");
    call.control.collect(
        [session, user, respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
            JsonWriter json;
            json.begin_object().key("allocations").begin_array();
            for (const auto& worker : workers) {
                for (const auto& allocation : worker.allocations) {
                    if ((session.empty() || allocation.session_id == session) &&
                        (user.empty() || allocation.user_id == user)) {
                        write_allocation(json, allocation);
                    }
                }
            }
            json.end_array().end_object();
            respond({200, "application/json", json.take()});
        });
}

void get_allocation(const RouteCall& call) {
    call.control.collect([id = call.request.allocation_id,
                          respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
        for (const auto& worker : workers) {
            for (const auto& allocation : worker.allocations) {
                if (allocation.id == id) {
                    JsonWriter json;
                    write_allocation(json, allocation);
                    respond({200, "application/json", json.take()});
                    return;
                }
            }
        }
        respond(error_reply(404, "no such allocation"));
    });
}

}  // namespace hearth::admin::routes
