// GET /v1/sessions/{id}/record and GET /v1/records: a session's record (who was relayed,
// how long, how much, how well; auth/session_record.h), and the records of the sessions
// that ended within the last hour, the latest first. With the Redis store both come from
// Redis, so any node answers for every node's allocations.

#include <chrono>

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

Json leg_json(const auth::LegSummary& leg) {
    return {{"bytes", leg.bytes},
            {"packets", leg.packets},
            {"peak_bps", leg.peak_bps},
            {"mean_bps", leg.mean_bps},
            {"rtp_expected", leg.rtp_expected},
            {"rtp_lost", leg.rtp_lost},
            {"jitter_ms", leg.jitter_milliseconds}};
}

Json counts_json(const std::map<std::string, std::uint64_t>& counts) {
    Json json = Json::object();
    for (const auto& [reason, count] : counts) {
        json[reason] = count;
    }
    return json;
}

// The members of a summary, set on `json`.
void add_summary(Json& json, const auth::RecordSummary& summary) {
    json["allocations"] = summary.allocations;
    json["live_allocations"] = summary.live;
    json["started_unix_ms"] = summary.started_unix_ms;
    json["ended_unix_ms"] = summary.ended_unix_ms;
    json["duration_s"] = static_cast<double>(summary.duration_ms) / 1000.0;
    json["to_peer"] = leg_json(summary.to_peer);
    json["to_client"] = leg_json(summary.to_client);
    json["lowest_quality"] = summary.lowest_quality
                                 ? Json{{"score", *summary.lowest_quality},
                                        {"at_unix_ms", summary.lowest_quality_at_unix_ms}}
                                 : Json(nullptr);
    json["dropped"] = counts_json(summary.dropped);
    json["allocations_ended"] = counts_json(summary.deleted);
}

Json record_json(std::string_view session, const auth::SessionRecord& record) {
    Json json = {{"session", session},
                 {"state", record.ended ? "ended" : "live"},
                 {"end_reason", record.end_reason},
                 {"revoked_unix_ms", record.revoked_unix_ms}};
    add_summary(json["summary"] = Json::object(), record.session);
    Json& participants = json["participants"] = Json::array();
    for (const auto& [user, summary] : record.participants) {
        Json participant = {{"user", user}};
        add_summary(participant, summary);
        participants.push_back(std::move(participant));
    }
    return json;
}

}  // namespace

void get_session_record(const RouteCall& call) {
    const std::string session = call.request.path_id;
    call.control.session_records().read(session, [session,
                                                  respond = call.respond](auth::FlatRecord fields) {
        if (fields.empty()) {
            respond(error_reply(404, "no record of this session"));
            return;
        }
        respond(json_reply(200, record_json(session, auth::read_record(fields, unix_ms_now()))));
    });
}

void list_ended_sessions(const RouteCall& call) {
    const std::int64_t now = unix_ms_now();
    call.control.session_records().ended(
        now, [now, respond = call.respond](std::vector<auth::EndedRecord> ended) {
            Json list = Json::array();
            for (const auto& entry : ended) {
                list.push_back(record_json(entry.session, auth::read_record(entry.fields, now)));
            }
            respond(json_reply(200, {{"ended", std::move(list)}}));
        });
}

}  // namespace hearth::admin::routes
