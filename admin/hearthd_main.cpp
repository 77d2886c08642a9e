// hearthd: the hearth STUN/TURN relay.

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "admin/admin_server.h"
#include "admin/admin_token.h"
#include "relay/config/config.h"
#include "relay/daemon/daemon.h"
#include "relay/daemon/demo.h"

namespace {

constexpr const char* usage =
    "usage: hearthd --config FILE        run with FILE (libconfig syntax, see etc/hearth.conf)\n"
    "       hearthd --check-config --config FILE\n"
    "                                    print every error in FILE with its line; exit 1 if any\n"
    "       hearthd --demo [--port N] [--tls-port N --tls-certificate PEM --tls-private-key PEM]\n"
    "                                    run on 127.0.0.1 with a demo session (./run.sh)\n"
    "       hearthd --help | --version\n";

int fail(const std::string& message) {
    std::fprintf(stderr, "hearthd: %s\n%s", message.c_str(), usage);
    return 2;
}

// Starts the admin API on the running daemon; returns its token ("" when it is off).
bool start_admin(hearth::relay::DaemonControl& control, std::string& token) {
    const auto& config = control.config();
    if (!config.admin_listen) {
        return true;
    }
    std::string error;
    token = hearth::admin::admin_token_for(config, error);
    if (token.empty()) {
        spdlog::error("admin API: {}", error);
        return false;
    }
    auto server = std::make_shared<hearth::admin::AdminServer>(control, token);
    if (!server->listen(*config.admin_listen, error)) {
        spdlog::error("admin API: {}", error);
        return false;
    }
    control.keep(server);
    spdlog::info("admin API on http://{}", config.admin_listen->to_string());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path;
    bool check_only = false;
    bool demo = false;
    unsigned long demo_port = 3478;
    unsigned long demo_tls_port = 5349;
    std::string tls_certificate;
    std::string tls_private_key;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (argument == "--version") {
            std::puts("hearthd 0.1.0");
            return 0;
        }
        if (argument == "--check-config") {
            check_only = true;
        } else if (argument == "--demo") {
            demo = true;
        } else if (argument == "--config" || argument == "--port" || argument == "--tls-port" ||
                   argument == "--tls-certificate" || argument == "--tls-private-key") {
            if (i + 1 >= argc) {
                return fail(std::string(argument) + " needs a value");
            }
            const char* value = argv[++i];
            if (argument == "--config") {
                config_path = value;
            } else if (argument == "--tls-certificate") {
                tls_certificate = value;
            } else if (argument == "--tls-private-key") {
                tls_private_key = value;
            } else {
                char* end = nullptr;
                const unsigned long port = std::strtoul(value, &end, 10);
                if (*end != '\0' || port == 0 || port > 65535) {
                    return fail(std::string(argument) + " needs a number from 1 to 65535");
                }
                (argument == "--port" ? demo_port : demo_tls_port) = port;
            }
        } else {
            return fail("unknown argument '" + std::string(argument) + "'");
        }
    }

    const auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    if (demo) {
        if (!config_path.empty() || check_only) {
            return fail("--demo takes no config file");
        }
        if (tls_certificate.empty() != tls_private_key.empty()) {
            return fail("--tls-certificate and --tls-private-key go together");
        }
        auto config = hearth::relay::demo_config(static_cast<std::uint16_t>(demo_port));
        if (!tls_certificate.empty()) {
            config.listen_tls = {hearth::TransportAddress{
                config.listen_udp.front().ip, static_cast<std::uint16_t>(demo_tls_port)}};
            config.tls_certificate = tls_certificate;
            config.tls_private_key = tls_private_key;
        }
        return hearth::relay::run_daemon(
            config, "", [&config, now_unix](hearth::relay::DaemonControl& control) {
                std::string token;
                if (!start_admin(control, token)) {
                    return false;
                }
                std::fputs(hearth::relay::demo_banner(config, now_unix, token).c_str(), stdout);
                std::fflush(stdout);
                return true;
            });
    }
    if (config_path.empty()) {
        return fail("--config FILE or --demo is required");
    }
    const auto loaded = hearth::config::load_config_file(config_path);
    for (const auto& error : loaded.errors) {
        std::fprintf(stderr, "%s\n", error.to_string().c_str());
    }
    if (!loaded.config) {
        std::fprintf(stderr, "hearthd: %zu error(s) in %s\n", loaded.errors.size(),
                     config_path.c_str());
        return 1;
    }
    if (check_only) {
        std::printf("%s: ok\n", config_path.c_str());
        return 0;
    }
    return hearth::relay::run_daemon(*loaded.config, config_path,
                                     [](hearth::relay::DaemonControl& control) {
                                         std::string token;
                                         return start_admin(control, token);
                                     });
}
