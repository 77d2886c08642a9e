#include "admin/hearthctl/commands.h"

#include <CLI/CLI.hpp>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "admin/hearthctl/exit_codes.h"
#include "admin/hearthctl/http_client.h"
#include "admin/hearthctl/output.h"
#include "admin/hearthctl/record.h"
#include "admin/hearthctl/top.h"

namespace hearth::hearthctl {

namespace {

int run_status_of_every_node(const Options& options) {
    return finish(options, ask_node(options, "GET", "/v1/nodes"), [](const Json& answer) {
        std::vector<std::vector<std::string>> rows;
        if (const auto* nodes = member(&answer, "nodes")) {
            for (const auto& node : elements(nodes)) {
                rows.push_back({field(node, "id"), field(node, "turn"), field(node, "admin"),
                                field(node, "draining") == "true" ? "draining" : "ready",
                                field(node, "allocations")});
            }
        }
        if (rows.empty()) {
            std::puts("no nodes registered (the session store is not Redis, or Redis is down)");
            return;
        }
        print_table({"NODE", "TURN", "ADMIN", "STATE", "ALLOCATIONS"}, rows);
    });
}

int run_status(const Options& options) {
    if (options.all) {
        return run_status_of_every_node(options);
    }
    return finish(options, ask_node(options, "GET", "/v1/status"), [](const Json& health) {
        // /v1/status's "status" is ready or degraded; an operator also needs to see that
        // the node is on its way out.
        const std::string status = field(health, "draining") == "true"
                                       ? "draining (" + field(health, "status") + ")"
                                       : field(health, "status");
        print_table(
            {"STATUS", "UPTIME", "WORKERS", "ALLOCATIONS", "CONNECTIONS", "STORE"},
            {{status, field(health, "uptime_seconds") + "s", field(health, "workers"),
              field(health, "allocations"), field(health, "connections"),
              field(health, "session_store") + " (" + field(health, "session_store_state") + ")"}});
    });
}

int run_allocations(const Options& options) {
    const std::string target = "/v1/allocations?session=" + url_encode(options.session) +
                               "&user=" + url_encode(options.user);
    return finish(options, ask_node(options, "GET", target), [](const Json& answer) {
        std::vector<std::vector<std::string>> rows;
        if (const auto* allocations = member(&answer, "allocations")) {
            for (const auto& allocation : elements(allocations)) {
                const auto* up = member(&allocation, "client_to_peer");
                const auto* down = member(&allocation, "peer_to_client");
                rows.push_back({field(allocation, "id"), field(allocation, "session"),
                                field(allocation, "user"), field(allocation, "client"),
                                field(allocation, "transport"),
                                up != nullptr ? field(*up, "bytes") : "",
                                down != nullptr ? field(*down, "bytes") : "",
                                field(allocation, "lifetime_remaining_seconds") + "s"});
            }
        }
        print_table({"ID", "SESSION", "USER", "CLIENT", "TRANSPORT", "SENT_BYTES", "RECEIVED_BYTES",
                     "EXPIRES_IN"},
                    rows);
    });
}

int run_sessions(const Options& options) {
    return finish(options, ask_node(options, "GET", "/v1/sessions"), [](const Json& answer) {
        std::vector<std::vector<std::string>> rows;
        if (const auto* sessions = member(&answer, "sessions")) {
            for (const auto& session : elements(sessions)) {
                std::string participants;
                if (const auto* list = member(&session, "participants")) {
                    for (const auto& participant : elements(list)) {
                        // Two appends: `"," + the text` trips GCC 12's bogus -Wrestrict at -O3.
                        participants += participants.empty() ? "" : ",";
                        participants += admin::json_scalar_text(participant);
                    }
                }
                rows.push_back({field(session, "id"), field(session, "state"), participants,
                                field(session, "allocation_cap")});
            }
        }
        print_table({"SESSION", "STATE", "PARTICIPANTS", "ALLOCATION_CAP"}, rows);
    });
}

int run_revoke(const Options& options) {
    const std::string target =
        "/v1/sessions/" + url_encode(options.session) + "/revoke?user=" + url_encode(options.user);
    return finish(options, ask_node(options, "POST", target), [](const Json& answer) {
        std::printf("revoked %s%s: %s allocation(s) torn down\n", field(answer, "session").c_str(),
                    field(answer, "user").empty() ? "" : (" for " + field(answer, "user")).c_str(),
                    field(answer, "allocations_deleted").c_str());
    });
}

int run_mint(const Options& options) {
    std::string target = "/v1/credentials?session=" + url_encode(options.session) +
                         "&user=" + url_encode(options.user);
    if (options.ttl > 0) {
        target += "&ttl=" + std::to_string(options.ttl);
    }
    // Minting always prints the RTCIceServer JSON: it is what a user pastes.
    Options as_json = options;
    as_json.json = true;
    return finish(as_json, ask_node(options, "POST", target), [](const Json&) {});
}

std::string joined(const Json* list) {
    std::string text;
    for (const auto& item : elements(list)) {
        text += (text.empty() ? "" : ", ") + admin::json_scalar_text(item);
    }
    return text;
}

int run_reload(const Options& options) {
    const auto response = ask_node(options, "POST", "/v1/reload");
    if (options.json) {
        std::puts(response.body.c_str());
        return response.status == 200 ? exit_done : exit_refused;
    }
    if (response.status != 200) {
        const auto report = admin::parse_json(response.body);
        const Json& errors = elements(report ? member(&*report, "errors") : nullptr);
        std::fprintf(stderr, "hearthctl: config refused, the running one stays: %s\n",
                     !errors.empty() ? admin::json_scalar_text(errors.front()).c_str()
                                     : response.body.c_str());
        return exit_refused;
    }
    const auto report = json_of(response);
    const std::string restart = joined(member(&report, "needs_restart"));
    std::printf("reloaded: %s\n", joined(member(&report, "applied_live")).c_str());
    if (!restart.empty()) {
        std::printf("changed but needs a restart: %s\n", restart.c_str());
    }
    return exit_done;
}

int run_drain(const Options& options) {
    std::string target = "/v1/drain";
    if (options.deadline > 0) {
        target += "?deadline=" + std::to_string(options.deadline);
    }
    return finish(options, ask_node(options, "POST", target), [](const Json&) {
        std::puts("draining: new allocations are redirected; hearthd exits when the last one ends");
    });
}

int run_undrain(const Options& options) {
    return finish(options, ask_node(options, "POST", "/v1/undrain"),
                  [](const Json&) { std::puts("accepting new allocations"); });
}

int list_secrets(const Options& options) {
    return finish(options, ask_node(options, "GET", "/v1/secrets"), [](const Json& answer) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& secret : elements(member(&answer, "secrets"))) {
            rows.push_back({field(secret, "name"), field(secret, "source"),
                            field(secret, "minting") == "true" ? "(mints)" : ""});
        }
        print_table({"NAME", "SOURCE", ""}, rows);
        // With several nodes on Redis, a new secret is minted with once every live node
        // holds it (README "Secrets across nodes").
        std::string waiting;
        for (const auto& node : elements(member(&answer, "minting_waits_for"))) {
            waiting += (waiting.empty() ? "" : ", ") + admin::json_scalar_text(node);
        }
        if (!waiting.empty()) {
            std::printf("the newest waits for these nodes to hold it: %s\n", waiting.c_str());
        }
    });
}

// The value from `value_file`'s first line, or stdin's: never from the command line, which
// every user of the host can read. It travels in the request body, never in the URL.
int add_secret(const Options& options, const std::string& name, const std::string& value_file) {
    const auto value = first_line_of(value_file.empty() ? "-" : value_file);
    if (!value || value->empty()) {
        usage_error(value_file.empty() ? "secrets add NAME reads the value from stdin; none came"
                                       : "cannot read a value from --value-file " + value_file);
    }
    const std::string body = admin::json_text(Json{{"name", name}, {"value", *value}});
    return finish(options, ask_node(options, "POST", "/v1/secrets", body), [&name](const Json&) {
        std::printf(
            "added %s; every node checks with it within a second, and minting uses it (if its "
            "name sorts last) once every live node holds it\n",
            name.c_str());
    });
}

int retire_secret(const Options& options, const std::string& name) {
    const std::string target = "/v1/secrets/" + url_encode(name) + "/retire";
    return finish(options, ask_node(options, "POST", target),
                  [&name](const Json&) { std::printf("retired %s\n", name.c_str()); });
}

int run_secrets(const Options& options) {
    if (!options.value_on_command_line.empty()) {
        usage_error(
            "a secret's value is not taken on the command line, visible to every user (ps): "
            "give it on stdin or with --value-file FILE");
    }
    if (options.secrets_action == "add") {
        return add_secret(options, options.name, options.value_file);
    }
    if (options.secrets_action == "retire") {
        return retire_secret(options, options.name);
    }
    return list_secrets(options);
}

int run_metrics(const Options& options) {
    const auto response = ask_node(options, "GET", "/metrics");
    std::fputs(response.body.c_str(), stdout);
    return response.status == 200 ? exit_done : exit_refused;
}

// Always the JSON, which is what the configuration is best read as; checked to be JSON.
int run_config(const Options& options) {
    Options as_json = options;
    as_json.json = true;
    return finish(as_json, ask_node(options, "GET", "/v1/config"), [](const Json&) {});
}

int run_version(const Options& options) {
    return finish(options, ask_node(options, "GET", "/v1/version"), [](const Json& answer) {
        std::printf("hearthctl %s\nhearthd %s\n", HEARTH_VERSION, field(answer, "version").c_str());
    });
}

int run_disconnect(const Options& options) {
    const std::string target =
        "/v1/allocations/" + std::to_string(options.allocation) + "/disconnect";
    return finish(options, ask_node(options, "POST", target), [](const Json& answer) {
        std::printf("disconnected allocation %s\n", field(answer, "disconnected").c_str());
    });
}

int run_log_level(const Options& options) {
    const std::string target = "/v1/log-level?level=" + url_encode(options.name);
    return finish(options, ask_node(options, "POST", target), [](const Json& answer) {
        std::printf("hearthd logs at %s now\n", field(answer, "log_level").c_str());
    });
}

// The command line of each command (CLI11 checks types and ranges, and writes the help).

void describe_status(CLI::App& command, Options& options) {
    command.add_flag("--all", options.all, "every node registered in Redis");
}

void describe_allocations(CLI::App& command, Options& options) {
    command.add_option("--session", options.session, "only this session's")->type_name("S");
    command.add_option("--user", options.user, "only this user's")->type_name("U");
}

void describe_revoke(CLI::App& command, Options& options) {
    command.add_option("SESSION", options.session, "the session")->required();
    command.add_option("--user", options.user, "remove only this participant")->type_name("U");
}

void describe_record(CLI::App& command, Options& options) {
    command.add_option("SESSION", options.session, "the session; none: those ended lately");
}

void describe_mint(CLI::App& command, Options& options) {
    command.add_option("--session", options.session, "the session")->type_name("S")->required();
    command.add_option("--user", options.user, "the participant")->type_name("U")->required();
    // The node's bounds (admin/routes/credentials.cpp): 1 s to a day.
    command.add_option("--ttl", options.ttl, "lifetime of the credential (default 3600)")
        ->type_name("SECONDS")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{86400}));
}

void describe_drain(CLI::App& command, Options& options) {
    // The node's bound (admin/routes/drain.cpp): a week.
    command.add_option("--deadline", options.deadline, "stop by then even with allocations left")
        ->type_name("SECONDS")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{7 * 86400}));
}

void describe_top(CLI::App& command, Options& options) {
    command.add_flag("--once", options.once, "print one frame and exit");
}

void describe_secrets(CLI::App& command, Options& options) {
    command.require_subcommand(0, 1);
    command.add_subcommand("list", "the secrets' names (the default)")->callback([&options] {
        options.secrets_action = "list";
    });
    CLI::App* add = command.add_subcommand("add", "add NAME, its value read from stdin or FILE");
    add->callback([&options] { options.secrets_action = "add"; });
    add->add_option("NAME", options.name, "the secret's name")->required();
    add->add_option("--value-file", options.value_file, "read the value from FILE's first line")
        ->type_name("FILE");
    // A value on the command line is taken, hidden from the help, to be refused with a
    // reason rather than as a stray argument.
    add->add_option("VALUE", options.value_on_command_line)->group("");
    CLI::App* retire = command.add_subcommand("retire", "retire NAME (a Redis-held secret)");
    retire->callback([&options] { options.secrets_action = "retire"; });
    retire->add_option("NAME", options.name, "the secret's name")->required();
}

void describe_disconnect(CLI::App& command, Options& options) {
    command.add_option("ALLOCATION", options.allocation, "the id `hearthctl allocations` shows")
        ->required()
        ->check(CLI::PositiveNumber);
}

void describe_log_level(CLI::App& command, Options& options) {
    command.add_option("LEVEL", options.name, "trace, debug, info, warn or error")
        ->required()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

constexpr std::array table{
    Command{"status", "node health and counts; --all lists every node registered in Redis",
            describe_status, run_status},
    Command{"allocations", "live allocations with their counters", describe_allocations,
            run_allocations},
    Command{"sessions", "the sessions in the store", nullptr, run_sessions},
    Command{"revoke",
            "end a session, or remove one participant, and tear down its allocations on every "
            "node",
            describe_revoke, run_revoke},
    Command{"record",
            "a session's record: per participant and in all, how long, how much, peak and mean "
            "rates, loss, jitter, the lowest quality and drops; without SESSION the sessions "
            "ended within the last hour",
            describe_record, run_record},
    Command{"mint", "a credential as RTCIceServer JSON, after checking the session", describe_mint,
            run_mint},
    Command{"reload", "reread the config, the TLS certificate and the secrets", nullptr,
            run_reload},
    Command{"drain",
            "redirect new allocations (300 Try Alternate); hearthd exits when the last "
            "allocation ends",
            describe_drain, run_drain},
    Command{"undrain", "accept new allocations again", nullptr, run_undrain},
    Command{"top",
            "a live view of allocations, refreshed every 2 s; keys: r sort by rate, l sort by "
            "loss, q quit",
            describe_top, run_top},
    Command{"secrets",
            "the secrets in use; add (its value read from stdin or FILE, never the command line) "
            "and retire change those held in Redis",
            describe_secrets, run_secrets},
    Command{"metrics", "the Prometheus exposition", nullptr, run_metrics},
    Command{"config", "the configuration in effect, as JSON (secret values are never shown)",
            nullptr, run_config},
    Command{"version", "hearthctl's version and the node's", nullptr, run_version},
    Command{"disconnect",
            "end one allocation (the audit trail says \"disconnected\"); its client may "
            "allocate again",
            describe_disconnect, run_disconnect},
    Command{"log-level", "set how much hearthd logs, until the next reload or restart",
            describe_log_level, run_log_level},
};

}  // namespace

std::span<const Command> command_table() {
    return table;
}

const Command* find_command(std::string_view name) {
    for (const auto& command : table) {
        if (command.name == name) {
            return &command;
        }
    }
    return nullptr;
}

}  // namespace hearth::hearthctl
