#include "relay/daemon/demo.h"

#include <openssl/rand.h>
#include <spdlog/fmt/fmt.h>

#include "auth/credential.h"

namespace hearth::relay {

namespace {

constexpr const char* demo_session = "demo-session";
constexpr std::int64_t demo_credential_ttl = 24 * 3600;

std::string random_secret() {
    unsigned char bytes[24];
    RAND_bytes(bytes, sizeof bytes);
    std::string hex;
    for (unsigned char byte : bytes) {
        hex += fmt::format("{:02x}", byte);
    }
    return hex;
}

}  // namespace

config::Config demo_config(std::uint16_t port) {
    config::Config config;
    const IpAddress loopback = *IpAddress::parse("127.0.0.1");
    config.listen.udp = {TransportAddress{loopback, port}};
    config.listen.tcp = {TransportAddress{loopback, port}};
    config.relay.ipv4 = loopback;
    config.workers = 1;
    config.auth.secrets = {{"demo", random_secret()}};
    config.session_store.sessions = {
        auth::Session{demo_session, auth::SessionState::active, {"therapist", "client"}, 0, 0, 16}};
    config.peer_policy.allow = {*AddressRange::parse("127.0.0.0/8")};
    config.admin.token_file = "/run/hearth/admin.token";
    config.public_host = "localhost";  // the demo certificate's name
    return config;
}

std::string demo_banner(const config::Config& config, std::int64_t now_unix,
                        const std::string& admin_token) {
    const auto& listen = config.listen.udp.front();
    const std::string host = listen.to_string();
    std::string urls = fmt::format("\"turn:{0}?transport=udp\", \"turn:{0}?transport=tcp\"", host);
    std::string text = "hearthd demo: UDP and TCP on " + host;
    if (!config.listen.tls.empty()) {
        // turns: URLs name a host, not an address: the certificate is for "localhost".
        const auto tls_port = config.listen.tls.front().port;
        urls += fmt::format(", \"turns:localhost:{}?transport=tcp\"", tls_port);
        text += fmt::format(", TLS on {} (self-signed certificate for localhost)",
                            config.listen.tls.front().to_string());
    }
    if (!config.listen.mux.empty()) {
        // Both TURN over TCP and over TLS on the one port, as on 443 in production.
        const auto mux = config.listen.mux.front();
        urls += fmt::format(", \"turn:{}?transport=tcp\", \"turns:localhost:{}?transport=tcp\"",
                            mux.to_string(), mux.port);
        text += fmt::format(", TCP and TLS on one port {}", mux.to_string());
    }
    text += ", embedded session store, session '" + std::string(demo_session) + "'\n";
    text +=
        "WARNING: this demo allows loopback peers (127.0.0.0/8) so a browser on this machine\n"
        "can relay to itself. The shipped etc/hearth.conf refuses them.\n\n";
    for (const char* user : {"therapist", "client"}) {
        const std::string username =
            auth::make_username(now_unix + demo_credential_ttl, demo_session, user);
        const std::string password =
            auth::mint_password(config.auth.secrets.back().value, username);
        text +=
            fmt::format("RTCIceServer for '{}' (valid {} h):\n", user, demo_credential_ttl / 3600);
        text += fmt::format("{{\"urls\": [{}], \"username\": \"{}\", \"credential\": \"{}\"}}\n\n",
                            urls, username, password);
    }
    if (config.admin.listen) {
        const auto admin = config.admin.listen->to_string();
        text += fmt::format("Admin page: http://{}/#token={}\n", admin, admin_token);
        text += fmt::format("Admin API:  http://{} (bearer token above, also in {})\n", admin,
                            config.admin.token_file);
        text += "            ./build/admin/hearthctl status   (needs no flags on this machine)\n";
    }
    text += "Stop with Ctrl-C.\n";
    return text;
}

}  // namespace hearth::relay
