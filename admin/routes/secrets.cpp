// GET /v1/secrets, POST /v1/secrets (JSON body {"name": N, "value": V}), POST
// /v1/secrets/{name}/retire: the secrets credentials are checked with, by name and where
// each is held (never their values), which one minting uses, and adding or retiring those
// held in Redis (every node applies the change within a second).

#include "admin/routes/handlers.h"
#include "admin/secret_body.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

constexpr std::string_view no_redis =
    "secrets are added and retired here only when held in Redis (session_store.kind = redis); "
    "config-held secrets are changed by editing the config and reloading";

// The answer once the daemon has added or retired `name`: {"<done_field>": name}, or why
// not.
std::function<void(auth::SecretChange)> answer_secret_change(Respond respond, std::string name,
                                                             std::string done_field,
                                                             std::string conflict) {
    return
        [respond = std::move(respond), name = std::move(name), done_field = std::move(done_field),
         conflict = std::move(conflict)](auth::SecretChange change) {
            switch (change) {
                case auth::SecretChange::done:
                    respond(json_reply(200, {{done_field, name}}));
                    return;
                case auth::SecretChange::conflict:
                    respond(error_reply(409, conflict));
                    return;
                case auth::SecretChange::no_answer:
                    respond(error_reply(503, "Redis did not answer; nothing changed"));
                    return;
                case auth::SecretChange::no_store:
                    respond(error_reply(409, std::string(no_redis)));
                    return;
            }
        };
}

}  // namespace

void list_secrets(const RouteCall& call) {
    Json list = Json::array();
    for (const auto& secret : call.control.secret_names()) {
        list.push_back(
            {{"name", secret.name}, {"source", secret.source}, {"minting", secret.minting}});
    }
    call.respond(json_reply(200, {{"secrets", std::move(list)},
                                  {"minting_waits_for", call.control.minting_waits_for()}}));
}

// A URL is written to access logs, proxies' logs and shell history, so a secret in the
// query string is refused, before anything else is looked at.
void add_secret(const RouteCall& call) {
    if (!query_parameter(call.query, "name").empty() ||
        !query_parameter(call.query, "value").empty()) {
        call.respond(error_reply(400,
                                 "name and value go in the request body as JSON "
                                 R"({"name": "...", "value": "..."}, never in the URL)"));
        return;
    }
    auto parsed = parse_secret_body(call.body);
    if (const auto* refusal = std::get_if<std::string>(&parsed)) {
        call.respond(error_reply(400, *refusal));
        return;
    }
    auto& secret = std::get<SecretToAdd>(parsed);
    call.control.put_secret(
        secret.name, secret.value,
        answer_secret_change(call.respond, secret.name, "added",
                             "a secret of that name already holds another value; add the new "
                             "one under a new name and retire the old one"));
}

void retire_secret(const RouteCall& call) {
    const std::string& name = call.request.path_id;
    if (name.empty()) {
        call.respond(error_reply(400, "the name of the secret to retire is missing"));
        return;
    }
    call.control.retire_secret(
        name, answer_secret_change(call.respond, name, "retired",
                                   "no such secret in Redis; config-held secrets are retired by "
                                   "editing the config and reloading"));
}

}  // namespace hearth::admin::routes
