// GET /v1/sessions and POST /v1/sessions/{id}/revoke[?user=U]: the session store's
// sessions, and ending one (or one participant's part in it) with its allocations.

#include "admin/routes/handlers.h"
#include "auth/session_store.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

Json session_json(const auth::Session& session) {
    return {{"id", session.id},
            {"state", auth::to_string(session.state)},
            {"not_before", session.not_before_unix},
            {"not_after", session.not_after_unix},
            {"allocation_cap", session.allocation_cap},
            {"participants", session.participants}};
}

}  // namespace

void list_sessions(const RouteCall& call) {
    call.control.list_sessions([respond = call.respond](std::vector<auth::Session> sessions) {
        Json list = Json::array();
        for (const auto& session : sessions) {
            list.push_back(session_json(session));
        }
        respond(json_reply(200, {{"sessions", std::move(list)}}));
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
                respond(json_reply(200,
                                   {{"session", session},
                                    {"user", user},
                                    {"allocations_deleted", static_cast<std::uint64_t>(deleted)}}));
            });
        });
}

}  // namespace hearth::admin::routes
