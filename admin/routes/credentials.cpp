// POST /v1/credentials?session=S&user=U[&ttl=N]: a TURN REST credential for one
// participant of a live session, as RTCIceServer JSON.

#include <optional>

#include "admin/routes/handlers.h"
#include "admin/unix_time.h"
#include "auth/credential.h"
#include "auth/session_store.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

constexpr std::int64_t default_credential_ttl = 3600;
constexpr std::int64_t max_credential_ttl = 86400;

// turn: URLs for every configured transport, on the relay's advertised address.
std::vector<std::string> ice_urls(const config::Config& config) {
    std::vector<std::string> urls;
    const auto advertised = config.relay.advertised_ipv4();
    const std::string address = advertised ? advertised->to_string() : "localhost";
    const std::string host = config.public_host.empty() ? address : config.public_host;
    if (!config.listen.udp.empty()) {
        urls.push_back("turn:" + host + ":" + std::to_string(config.listen.udp.front().port) +
                       "?transport=udp");
    }
    if (!config.listen.tcp.empty()) {
        urls.push_back("turn:" + host + ":" + std::to_string(config.listen.tcp.front().port) +
                       "?transport=tcp");
    }
    if (!config.listen.tls.empty()) {
        urls.push_back("turns:" + host + ":" + std::to_string(config.listen.tls.front().port) +
                       "?transport=tcp");
    }
    // One port for both, told apart by their first bytes: what a network that lets only
    // port 443 out (or only an HTTP proxy's CONNECT to it) still reaches.
    if (!config.listen.mux.empty()) {
        const std::string port = std::to_string(config.listen.mux.front().port);
        urls.push_back("turn:" + host + ":" + port + "?transport=tcp");
        urls.push_back("turns:" + host + ":" + port + "?transport=tcp");
    }
    return urls;
}

int status_for_refusal(auth::SessionVerdict verdict) {
    return verdict == auth::SessionVerdict::unknown_session     ? 404
           : verdict == auth::SessionVerdict::store_unavailable ? 503
                                                                : 409;
}

Reply ice_server(const relay::DaemonControl& control, const std::string& session,
                 const std::string& user, std::int64_t ttl) {
    const std::string username = auth::make_username(now_unix() + ttl, session, user);
    return json_reply(200, {{"urls", ice_urls(control.config())},
                            {"username", username},
                            {"credential", auth::mint_password(control.minting_secret(), username)},
                            {"ttl", ttl}});
}

}  // namespace

void mint_credentials(const RouteCall& call) {
    auto& control = call.control;
    const std::string session = query_parameter(call.query, "session");
    const std::string user = query_parameter(call.query, "user");
    const std::string ttl_text = query_parameter(call.query, "ttl");
    const auto ttl = ttl_text.empty() ? std::optional(default_credential_ttl)
                                      : parse_decimal(ttl_text, 1, max_credential_ttl);
    if (!auth::is_valid_id(session) || !auth::is_valid_id(user)) {
        call.respond(error_reply(400, "session and user are required: [A-Za-z0-9._@-]{1,128}"));
        return;
    }
    if (!ttl) {
        call.respond(error_reply(400, "ttl must be 1 to 86400 seconds"));
        return;
    }
    control.session_store().check_session(
        session, user, now_unix(),
        [&control, session, user, ttl = *ttl,
         respond = call.respond](auth::SessionVerdict verdict) {
            if (verdict != auth::SessionVerdict::allowed) {
                respond(error_reply(status_for_refusal(verdict), auth::to_string(verdict)));
                return;
            }
            respond(ice_server(control, session, user, ttl));
        });
}

}  // namespace hearth::admin::routes
