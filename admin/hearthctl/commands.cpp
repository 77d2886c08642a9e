#include "admin/hearthctl/commands.h"

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
    return finish(options, ask_node(options, "GET", "/v1/nodes"), [](const JsonValue& answer) {
        std::vector<std::vector<std::string>> rows;
        if (const auto* nodes = answer.get("nodes")) {
            for (const auto& node : *nodes->array()) {
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
    if (!options.arguments.empty() && options.arguments[0] == "--all") {
        command_flags({options.arguments.begin() + 1, options.arguments.end()}, {});
        return run_status_of_every_node(options);
    }
    command_flags(options.arguments, {});
    return finish(options, ask_node(options, "GET", "/v1/status"), [](const JsonValue& health) {
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
    auto flags = command_flags(options.arguments, {"session", "user"});
    const std::string target = "/v1/allocations?session=" + url_encode(flags["session"]) +
                               "&user=" + url_encode(flags["user"]);
    return finish(options, ask_node(options, "GET", target), [](const JsonValue& answer) {
        std::vector<std::vector<std::string>> rows;
        if (const auto* allocations = answer.get("allocations")) {
            for (const auto& allocation : *allocations->array()) {
                const auto* up = allocation.get("client_to_peer");
                const auto* down = allocation.get("peer_to_client");
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
    command_flags(options.arguments, {});
    return finish(options, ask_node(options, "GET", "/v1/sessions"), [](const JsonValue& answer) {
        std::vector<std::vector<std::string>> rows;
        if (const auto* sessions = answer.get("sessions")) {
            for (const auto& session : *sessions->array()) {
                std::string participants;
                if (const auto* list = session.get("participants")) {
                    for (const auto& participant : *list->array()) {
                        // Two appends: `"," + text()` trips GCC 12's bogus -Wrestrict at -O3.
                        participants += participants.empty() ? "" : ",";
                        participants += participant.text();
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
    std::vector<std::string> positional;
    auto flags = command_flags(options.arguments, {"user"}, &positional);
    if (positional.size() != 1) {
        usage_error("revoke takes one SESSION");
    }
    const std::string target =
        "/v1/sessions/" + url_encode(positional[0]) + "/revoke?user=" + url_encode(flags["user"]);
    return finish(options, ask_node(options, "POST", target), [](const JsonValue& answer) {
        std::printf("revoked %s%s: %s allocation(s) torn down\n", field(answer, "session").c_str(),
                    field(answer, "user").empty() ? "" : (" for " + field(answer, "user")).c_str(),
                    field(answer, "allocations_deleted").c_str());
    });
}

int run_mint(const Options& options) {
    auto flags = command_flags(options.arguments, {"session", "user", "ttl"});
    if (flags["session"].empty() || flags["user"].empty()) {
        usage_error("mint needs --session and --user");
    }
    std::string target = "/v1/credentials?session=" + url_encode(flags["session"]) +
                         "&user=" + url_encode(flags["user"]);
    if (!flags["ttl"].empty()) {
        target += "&ttl=" + url_encode(flags["ttl"]);
    }
    // Minting always prints the RTCIceServer JSON: it is what a user pastes.
    Options as_json = options;
    as_json.json = true;
    return finish(as_json, ask_node(options, "POST", target), [](const JsonValue&) {});
}

std::string joined(const JsonValue& list) {
    std::string text;
    for (const auto& item : *list.array()) {
        text += (text.empty() ? "" : ", ") + item.text();
    }
    return text;
}

int run_reload(const Options& options) {
    command_flags(options.arguments, {});
    const auto response = ask_node(options, "POST", "/v1/reload");
    if (options.json) {
        std::puts(response.body.c_str());
        return response.status == 200 ? exit_done : exit_refused;
    }
    if (response.status != 200) {
        const auto report = admin::parse_json(response.body);
        const JsonValue* errors = report ? report->get("errors") : nullptr;
        std::fprintf(stderr, "hearthctl: config refused, the running one stays: %s\n",
                     errors != nullptr && !errors->array()->empty()
                         ? errors->array()->front().text().c_str()
                         : response.body.c_str());
        return exit_refused;
    }
    const auto report = json_of(response);
    const std::string restart = joined(*report.get("needs_restart"));
    std::printf("reloaded: %s\n", joined(*report.get("applied_live")).c_str());
    if (!restart.empty()) {
        std::printf("changed but needs a restart: %s\n", restart.c_str());
    }
    return exit_done;
}

int run_drain(const Options& options) {
    auto flags = command_flags(options.arguments, {"deadline"});
    std::string target = "/v1/drain";
    if (!flags["deadline"].empty()) {
        target += "?deadline=" + url_encode(flags["deadline"]);
    }
    return finish(options, ask_node(options, "POST", target), [](const JsonValue&) {
        std::puts("draining: new allocations are redirected; hearthd exits when the last one ends");
    });
}

int run_undrain(const Options& options) {
    command_flags(options.arguments, {});
    return finish(options, ask_node(options, "POST", "/v1/undrain"),
                  [](const JsonValue&) { std::puts("accepting new allocations"); });
}

int list_secrets(const Options& options) {
    return finish(options, ask_node(options, "GET", "/v1/secrets"), [](const JsonValue& answer) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& secret : *answer.get("secrets")->array()) {
            rows.push_back({field(secret, "name"), field(secret, "source")});
        }
        // hearthd lists the secret it mints with last (DaemonControl::apply_secrets).
        if (!rows.empty()) {
            rows.back().push_back("(mints)");
            for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
                rows[i].push_back("");
            }
        }
        print_table({"NAME", "SOURCE", ""}, rows);
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
    const std::string form = "name=" + url_encode(name) + "&value=" + url_encode(*value);
    return finish(
        options, ask_node(options, "POST", "/v1/secrets", form), [&name](const JsonValue&) {
            std::printf("added %s; minting uses it if its name sorts last\n", name.c_str());
        });
}

int retire_secret(const Options& options, const std::string& name) {
    const std::string target = "/v1/secrets/" + url_encode(name) + "/retire";
    return finish(options, ask_node(options, "POST", target),
                  [&name](const JsonValue&) { std::printf("retired %s\n", name.c_str()); });
}

int run_secrets(const Options& options) {
    std::vector<std::string> positional;
    auto flags = command_flags(options.arguments, {"value-file"}, &positional);
    const std::string action = positional.empty() ? "list" : positional[0];
    if (action == "list" && positional.size() <= 1) {
        return list_secrets(options);
    }
    if (action == "add" && positional.size() == 3) {
        usage_error(
            "a secret's value is not taken on the command line, visible to every user (ps): "
            "give it on stdin or with --value-file FILE");
    }
    if (action == "add" && positional.size() == 2) {
        return add_secret(options, positional[1], flags["value-file"]);
    }
    if (action == "retire" && positional.size() == 2) {
        return retire_secret(options, positional[1]);
    }
    usage_error(
        "secrets takes list, add NAME (the value on stdin or --value-file), or retire NAME");
}

int run_metrics(const Options& options) {
    command_flags(options.arguments, {});
    const auto response = ask_node(options, "GET", "/metrics");
    std::fputs(response.body.c_str(), stdout);
    return response.status == 200 ? exit_done : exit_refused;
}

int run_config(const Options& options) {
    command_flags(options.arguments, {});
    const auto response = ask_node(options, "GET", "/v1/config");
    std::puts(response.body.c_str());
    return response.status == 200 ? exit_done : exit_refused;
}

constexpr std::array table{
    Command{"status", "[--all]",
            "node health and counts; --all lists every node registered in Redis", run_status},
    Command{"allocations", "[--session S] [--user U]", "live allocations with their counters",
            run_allocations},
    Command{"sessions", "", "the sessions in the store", run_sessions},
    Command{"revoke", "SESSION [--user U]",
            "end a session, or remove one participant, and tear down its allocations on every "
            "node",
            run_revoke},
    Command{"record", "[SESSION]",
            "a session's record: per participant and in all, how long, how much, peak and mean "
            "rates, loss, jitter, the lowest quality and drops; without SESSION the sessions "
            "ended within the last hour",
            run_record},
    Command{"mint", "--session S --user U [--ttl SECONDS]",
            "a credential as RTCIceServer JSON, after checking the session", run_mint},
    Command{"reload", "", "reread the config, the TLS certificate and the secrets", run_reload},
    Command{"drain", "[--deadline SECONDS]",
            "redirect new allocations (300 Try Alternate); hearthd exits when the last "
            "allocation ends",
            run_drain},
    Command{"undrain", "", "accept new allocations again", run_undrain},
    Command{"top", "[--once]",
            "a live view of allocations, refreshed every 2 s; keys: r sort by rate, l sort by "
            "loss, q quit; --once prints one frame",
            run_top},
    Command{"secrets", "[list | add NAME [--value-file FILE] | retire NAME]",
            "the secrets in use; add (its value read from stdin or FILE, never the command line) "
            "and retire change those held in Redis",
            run_secrets},
    Command{"metrics", "", "the Prometheus exposition", run_metrics},
    Command{"config", "", "the configuration in effect, as JSON (secret values are never shown)",
            run_config},
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
