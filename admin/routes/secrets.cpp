// GET /v1/secrets, POST /v1/secrets (body name=N&value=V), POST /v1/secrets/{name}/retire:
// the secrets credentials are checked with, by name and where each is held (never their
// values), and adding or retiring those held in Redis.

#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

constexpr std::size_t min_secret_length = 16;
constexpr std::string_view secret_needed =
    "a name, and for a new secret a value of 16 characters or more";

// The answer once the daemon has added or retired `name`: {"<done_field>": name}, or 409
// with `refusal` when it could not.
std::function<void(bool)> answer_secret_change(Respond respond, std::string name,
                                               std::string done_field, std::string refusal) {
    return [respond = std::move(respond), name = std::move(name),
            done_field = std::move(done_field), refusal = std::move(refusal)](bool done) {
        if (!done) {
            respond(error_reply(409, refusal));
            return;
        }
        respond(json_reply(200, {{done_field, name}}));
    };
}

}  // namespace

void list_secrets(const RouteCall& call) {
    Json list = Json::array();
    for (const auto& secret : call.control.secret_names()) {
        list.push_back({{"name", secret.name}, {"source", secret.source}});
    }
    call.respond(json_reply(200, {{"secrets", std::move(list)}}));
}

// The secret comes in the body (application/x-www-form-urlencoded): a URL is written to
// access logs, proxies' logs and shell history, so one in the query string is refused.
void add_secret(const RouteCall& call) {
    if (!query_parameter(call.query, "name").empty() ||
        !query_parameter(call.query, "value").empty()) {
        call.respond(error_reply(400,
                                 "name and value go in the request body "
                                 "(application/x-www-form-urlencoded name=N&value=V), never in "
                                 "the URL"));
        return;
    }
    const std::string name = query_parameter(call.body, "name");
    const std::string value = query_parameter(call.body, "value");
    if (name.empty() || value.size() < min_secret_length) {
        call.respond(error_reply(400, secret_needed));
        return;
    }
    call.control.put_secret(
        name, value,
        answer_secret_change(call.respond, name, "added",
                             "secrets can be added only to Redis (session_store.kind = redis); "
                             "edit the config and reload otherwise"));
}

void retire_secret(const RouteCall& call) {
    const std::string& name = call.request.path_id;
    if (name.empty()) {
        call.respond(error_reply(400, secret_needed));
        return;
    }
    call.control.retire_secret(
        name, answer_secret_change(call.respond, name, "retired",
                                   "no such secret in Redis; config-held secrets are retired by "
                                   "editing the config and reloading"));
}

}  // namespace hearth::admin::routes
