// GET /v1/sessions/{id}/record and GET /v1/records: a session's record (who was relayed,
// how long, how much, how well; auth/session_record.h), and the records of the sessions
// that ended within the last hour, the latest first. With the Redis store both come from
// Redis, so any node answers for every node's allocations.

#include <chrono>

#include "admin/json_writer.h"
#include "admin/routes/handlers.h"
#include "auth/session_records.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void write_leg(JsonWriter& json, std::string_view name, const auth::LegSummary& leg) {
    json.key(name)
        .begin_object()
        .field("bytes", leg.bytes)
        .field("packets", leg.packets)
        .field("peak_bps", leg.peak_bps)
        .field("mean_bps", leg.mean_bps)
        .field("rtp_expected", leg.rtp_expected)
        .field("rtp_lost", leg.rtp_lost)
        .field("jitter_ms", leg.jitter_milliseconds)
        .end_object();
}

void write_counts(JsonWriter& json, std::string_view name,
                  const std::map<std::string, std::uint64_t>& counts) {
    json.key(name).begin_object();
    for (const auto& [reason, count] : counts) {
        json.field(reason, count);
    }
    json.end_object();
}

// The fields of a summary, inside an object the caller opened.
void write_summary(JsonWriter& json, const auth::RecordSummary& summary) {
    json.field("allocations", summary.allocations)
        .field("live_allocations", summary.live)
        .field("started_unix_ms", summary.started_unix_ms)
        .field("ended_unix_ms", summary.ended_unix_ms)
        .field("duration_s", static_cast<double>(summary.duration_ms) / 1000.0);
    write_leg(json, "to_peer", summary.to_peer);
    write_leg(json, "to_client", summary.to_client);
    json.key("lowest_quality");
    if (summary.lowest_quality) {
        json.begin_object()
            .field("score", *summary.lowest_quality)
            .field("at_unix_ms", summary.lowest_quality_at_unix_ms)
            .end_object();
    } else {
        json.null();
    }
    write_counts(json, "dropped", summary.dropped);
    write_counts(json, "allocations_ended", summary.deleted);
}

void write_record(JsonWriter& json, std::string_view session, const auth::SessionRecord& record) {
    json.begin_object()
        .field("session", session)
        .field("state", record.ended ? "ended" : "live")
        .field("end_reason", record.end_reason)
        .field("revoked_unix_ms", record.revoked_unix_ms);
    json.key("summary").begin_object();
    write_summary(json, record.session);
    json.end_object();
    json.key("participants").begin_array();
    for (const auto& [user, summary] : record.participants) {
        json.begin_object().field("user", user);
        write_summary(json, summary);
        json.end_object();
    }
    json.end_array().end_object();
}

}  // namespace

void get_session_record(const RouteCall& call) {
    const std::string session = call.request.path_id;
    call.control.session_records().read(
        session, [session, respond = call.respond](auth::FlatRecord fields) {
            if (fields.empty()) {
                respond(error_reply(404, "no record of this session"));
                return;
            }
            JsonWriter json;
            write_record(json, session, auth::read_record(fields, unix_ms_now()));
            respond({200, "application/json", json.take()});
        });
}

void list_ended_sessions(const RouteCall& call) {
    const std::int64_t now = unix_ms_now();
    call.control.session_records().ended(
        now, [now, respond = call.respond](std::vector<auth::EndedRecord> ended) {
            JsonWriter json;
            json.begin_object().key("ended").begin_array();
            for (const auto& entry : ended) {
                write_record(json, entry.session, auth::read_record(entry.fields, now));
            }
            json.end_array().end_object();
            respond({200, "application/json", json.take()});
        });
}

}  // namespace hearth::admin::routes
