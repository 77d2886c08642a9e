// hearthd: the hearth STUN/TURN relay.

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "admin/admin_server.h"
#include "admin/admin_token.h"
#include "admin/unix_time.h"
#include "relay/config/config.h"
#include "relay/daemon/daemon.h"
#include "relay/daemon/demo.h"
#include "relay/daemon/host_check.h"

namespace {

constexpr const char* usage =
    "usage: hearthd --config FILE        run with FILE (libconfig syntax, see etc/hearth.conf)\n"
    "       hearthd --check-config --config FILE\n"
    "                                    print every error in FILE with its line, and what\n"
    "                                    this host would refuse (TLS files, addresses to\n"
    "                                    bind); exit 0 if none, 1 if any, 2 on bad usage\n"
    "       hearthd --demo [--port N] [--tls-port N] [--mux-port N]\n"
    "                      [--tls-certificate PEM --tls-private-key PEM]\n"
    "                                    run on 127.0.0.1 with a demo session (./run.sh);\n"
    "                                    with a certificate, TLS and a multiplexing port too\n"
    "       hearthd --help | --version\n";

// What the command line asks for.
struct Arguments {
    bool show_usage = false;
    bool show_version = false;
    std::string config_path;
    bool check_only = false;
    bool demo = false;
    std::uint16_t demo_port = 3478;
    std::uint16_t demo_tls_port = 5349;
    std::uint16_t demo_mux_port = 4443;  // 443 in production; this one needs no privilege
    std::string tls_certificate;
    std::string tls_private_key;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "hearthd: %s\n%s", message.c_str(), usage);
    return 2;
}

std::optional<std::uint16_t> parse_port(const char* text) {
    char* end = nullptr;
    const unsigned long port = std::strtoul(text, &end, 10);
    if (*end != '\0' || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

// Stores the value of a flag that takes one; the error says what is wrong with it.
std::optional<std::string> take_value(std::string_view flag, const char* value,
                                      Arguments& arguments) {
    if (flag == "--config") {
        arguments.config_path = value;
    } else if (flag == "--tls-certificate") {
        arguments.tls_certificate = value;
    } else if (flag == "--tls-private-key") {
        arguments.tls_private_key = value;
    } else {
        const auto port = parse_port(value);
        if (!port) {
            return std::string(flag) + " needs a number from 1 to 65535";
        }
        (flag == "--port"       ? arguments.demo_port
         : flag == "--tls-port" ? arguments.demo_tls_port
                                : arguments.demo_mux_port) = *port;
    }
    return std::nullopt;
}

// Flags that are fine one by one but not together, or a run with nothing to run.
std::optional<std::string> combination_error(const Arguments& arguments) {
    if (arguments.demo && (!arguments.config_path.empty() || arguments.check_only)) {
        return "--demo takes no config file";
    }
    if (arguments.demo && arguments.tls_certificate.empty() != arguments.tls_private_key.empty()) {
        return "--tls-certificate and --tls-private-key go together";
    }
    if (!arguments.demo && arguments.config_path.empty()) {
        return "--config FILE or --demo is required";
    }
    return std::nullopt;
}

// Reads argv, stopping at --help or --version.
std::expected<Arguments, std::string> parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == "--help" || argument == "-h") {
            arguments.show_usage = true;
            return arguments;
        }
        if (argument == "--version") {
            arguments.show_version = true;
            return arguments;
        }
        if (argument == "--check-config") {
            arguments.check_only = true;
        } else if (argument == "--demo") {
            arguments.demo = true;
        } else if (argument == "--config" || argument == "--port" || argument == "--tls-port" ||
                   argument == "--mux-port" || argument == "--tls-certificate" ||
                   argument == "--tls-private-key") {
            if (i + 1 >= argc) {
                return std::unexpected(std::string(argument) + " needs a value");
            }
            if (auto error = take_value(argument, argv[++i], arguments)) {
                return std::unexpected(*error);
            }
        } else {
            return std::unexpected("unknown argument '" + std::string(argument) + "'");
        }
    }
    if (auto error = combination_error(arguments)) {
        return std::unexpected(*error);
    }
    return arguments;
}

hearth::admin::AdminConnections::Limits admin_limits(const hearth::config::AdminSection& admin) {
    return {admin.max_connections, admin.request_deadline};
}

// Starts the admin API on the running daemon and puts its token in `token` (left "" when
// the config turns the API off); false when it cannot start.
bool start_admin(hearth::relay::DaemonControl& control, std::string& token) {
    const auto& config = control.config();
    if (!config.admin.listen) {
        return true;
    }
    std::string error;
    token = hearth::admin::admin_token_for(config, error);
    if (token.empty()) {
        spdlog::error("admin API: {}", error);
        return false;
    }
    auto server =
        std::make_shared<hearth::admin::AdminServer>(control, token, admin_limits(config.admin));
    if (!server->listen(*config.admin.listen, error)) {
        spdlog::error("admin API: {}", error);
        return false;
    }
    server->set_read_only_token(config.admin.read_only_token);
    control.keep(server);
    spdlog::info("admin API on http://{}", config.admin.listen->to_string());
    // admin.token takes effect on reload: a leaked token is rotated without a restart. A
    // generated one ("") is drawn again only when the configured token changed.
    control.on_reload([weak = std::weak_ptr(server), configured = config.admin.token](
                          const hearth::config::Config& reloaded) mutable {
        const auto server = weak.lock();
        if (!server) {
            return;
        }
        server->set_limits(admin_limits(reloaded.admin));
        server->set_read_only_token(reloaded.admin.read_only_token);
        if (reloaded.admin.token == configured) {
            return;
        }
        std::string error;
        std::string token = hearth::admin::admin_token_for(reloaded, error);
        if (token.empty()) {
            spdlog::error("reload: admin API token: {}; the old token stays", error);
            return;
        }
        configured = reloaded.admin.token;
        server->set_token(std::move(token));
        spdlog::info("reload: the admin API takes a new token");
    });
    return true;
}

int run_demo(const Arguments& arguments) {
    const auto now_unix = hearth::admin::now_unix();
    auto config = hearth::relay::demo_config(arguments.demo_port);
    if (!arguments.tls_certificate.empty()) {
        config.listen.tls = {
            hearth::TransportAddress{config.listen.udp.front().ip, arguments.demo_tls_port}};
        config.listen.mux = {
            hearth::TransportAddress{config.listen.udp.front().ip, arguments.demo_mux_port}};
        config.tls.certificate = arguments.tls_certificate;
        config.tls.private_key = arguments.tls_private_key;
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

// --check-config, once the file is valid: what the daemon would then refuse at start on this
// host (host_check.h). Exit 1 when anything is, as for an error in the file.
int check_host(const hearth::config::Config& config, const std::string& path) {
    const auto problems = hearth::relay::host_problems(config);
    for (const auto& problem : problems) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), problem.c_str());
    }
    if (!problems.empty()) {
        std::fprintf(stderr, "hearthd: %zu error(s) in %s\n", problems.size(), path.c_str());
        return 1;
    }
    std::printf("%s: ok\n", path.c_str());
    return 0;
}

// Runs with the config file, or with --check-config only says whether it is valid.
int run_with_config_file(const Arguments& arguments) {
    const auto loaded = hearth::config::load_config_file(arguments.config_path);
    for (const auto& error : loaded.errors) {
        std::fprintf(stderr, "%s\n", error.to_string().c_str());
    }
    if (!loaded.config) {
        std::fprintf(stderr, "hearthd: %zu error(s) in %s\n", loaded.errors.size(),
                     arguments.config_path.c_str());
        return 1;
    }
    if (arguments.check_only) {
        return check_host(*loaded.config, arguments.config_path);
    }
    return hearth::relay::run_daemon(*loaded.config, arguments.config_path,
                                     [](hearth::relay::DaemonControl& control) {
                                         std::string token;
                                         return start_admin(control, token);
                                     });
}

}  // namespace

int main(int argc, char** argv) {
    const auto arguments = parse_arguments(argc, argv);
    if (!arguments) {
        return fail(arguments.error());
    }
    if (arguments->show_usage) {
        std::fputs(usage, stdout);
        return 0;
    }
    if (arguments->show_version) {
        std::puts("hearthd " HEARTH_VERSION);
        return 0;
    }
    return arguments->demo ? run_demo(*arguments) : run_with_config_file(*arguments);
}
