// GET /v1/sessions and POST /v1/sessions/{id}/revoke[?user=U]: the session store's
// sessions, and ending one (or one participant's part in it) with its allocations.

#include "admin/json_writer.h"
#include "admin/routes/handlers.h"
#include "auth/session_store.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

void write_session(JsonWriter& json, const auth::Session& session) {
    json.begin_object()
        .field("id", session.id)
        .field("state", auth::to_string(session.state))
        .field("not_before", session.not_before_unix)
        .field("not_after", session.not_after_unix)
        .field("allocation_cap", session.allocation_cap);
    json.key("participants").begin_array();
    for (const auto& participant : session.participants) {
        json.value(participant);
    }
    json.end_array().end_object();
}

}  // namespace

void list_sessions(const RouteCall& call) {
    call.control.list_sessions([respond = call.respond](std::vector<auth::Session> sessions) {
        JsonWriter json;
        json.begin_object().key("sessions").begin_array();
        for (const auto& session : sessions) {
            write_session(json, session);
        }
        json.end_array().end_object();
        respond({200, "application/json", json.take()});
    });
}

void revoke_session(const RouteCall& call) {
    auto& control = call.control;
    const std::string session = call.request.path_id;
    const std::string user = query_parameter(call.query, "user");
    control.end_session(
        session, user, [&control, session, user, respond = call.respond](bool known) {
            if (!known) {
                respond(
                    error_reply(404, user.empty() ? "unknown session" : "unknown session or user"));
                return;
            }
            control.delete_session_allocations(session, user, [=](std::size_t deleted) {
                JsonWriter json;
                json.begin_object()
                    .field("session", session)
                    .field("user", user)
                    .field("allocations_deleted", static_cast<std::uint64_t>(deleted))
                    .end_object();
                respond({200, "application/json", json.take()});
            });
        });
}

}  // namespace hearth::admin::routes
