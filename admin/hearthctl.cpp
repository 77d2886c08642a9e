// hearthctl: the operator's command line, a client of hearthd's admin API.
// Exit codes: 0 done, 1 the node said no (unknown session, refused), 2 bad usage,
// 3 node unreachable or bad token.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <libconfig.h++>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "admin/json_value.h"
#include "relay/stun/transport_address.h"

namespace {

using hearth::admin::JsonValue;

constexpr const char* default_admin = "127.0.0.1:9478";
constexpr const char* default_config = "/etc/hearth/hearth.conf";
constexpr const char* default_token_file = "/run/hearth/admin.token";

constexpr const char* usage =
    "usage: hearthctl [--admin HOST:PORT] [--token TOKEN] [--config FILE] [--json] COMMAND\n"
    "commands:\n"
    "  status [--all]                         node health and counts (--all: every node in Redis)\n"
    "  allocations [--session S] [--user U]   live allocations with their counters\n"
    "  sessions                               sessions of the embedded store\n"
    "  revoke SESSION [--user U]              end a session (or drop one participant) and\n"
    "                                         tear down its allocations\n"
    "  mint --session S --user U [--ttl N]    a credential as RTCIceServer JSON\n"
    "  reload                                 reread the config, certificate and secrets\n"
    "  drain [--deadline SECONDS] / undrain   stop taking allocations (300 Try Alternate)\n"
    "  top [--once]                           a live view of allocations (q quits)\n"
    "  secrets [list|add NAME VALUE|retire NAME]  the secrets in use\n"
    "  metrics                                the Prometheus exposition\n"
    "hearthctl COMMAND --help says more about each.\n"
    "The admin address and token come from the flags, then HEARTH_ADMIN and\n"
    "HEARTH_ADMIN_TOKEN, then the config file's admin group (default "
    "/etc/hearth/hearth.conf),\n";

// One line of help per command, for `hearthctl COMMAND --help`.
const std::map<std::string, std::string, std::less<>> command_help = {
    {"status",
     "hearthctl status [--all]\n  node health and counts; --all lists every node "
     "registered in Redis"},
    {"allocations",
     "hearthctl allocations [--session S] [--user U]\n  live allocations with "
     "their counters"},
    {"top",
     "hearthctl top [--once]\n  a live view of allocations, refreshed every 2 s; keys: "
     "r sort by rate, l sort by loss, q quit; --once prints one frame"},
    {"sessions", "hearthctl sessions\n  the sessions in the store"},
    {"revoke",
     "hearthctl revoke SESSION [--user U]\n  end a session, or remove one "
     "participant, and tear down its allocations on every node"},
    {"mint",
     "hearthctl mint --session S --user U [--ttl SECONDS]\n  a credential as "
     "RTCIceServer JSON, after checking the session"},
    {"reload", "hearthctl reload\n  reread the config, the TLS certificate and the secrets"},
    {"drain",
     "hearthctl drain [--deadline SECONDS]\n  redirect new allocations (300 Try "
     "Alternate); hearthd exits when the last allocation ends"},
    {"undrain", "hearthctl undrain\n  accept new allocations again"},
    {"secrets",
     "hearthctl secrets [list | add NAME VALUE | retire NAME]\n  the secrets in use; "
     "add and retire change those held in Redis"},
    {"metrics", "hearthctl metrics\n  the Prometheus exposition"},
};

struct Options {
    std::string admin;
    std::string token;
    std::string config = default_config;
    bool json = false;
    std::string command;
    std::vector<std::string> arguments;
};

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "hearthctl: %s (try hearthctl --help)\n", message.c_str());
    std::exit(2);
}

[[noreturn]] void node_error(const std::string& message) {
    std::fprintf(stderr, "hearthctl: %s\n", message.c_str());
    std::exit(3);
}

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    std::string text;
    std::getline(file, text);
    return text;
}

// The admin group of the config file, read leniently: hearthctl needs only these keys.
void fill_from_config(Options& options) {
    libconfig::Config config;
    try {
        config.readFile(options.config.c_str());
    } catch (const std::exception&) {
        return;
    }
    const auto& root = config.getRoot();
    if (!root.exists("admin")) {
        return;
    }
    const auto& admin = root["admin"];
    std::string value;
    if (options.admin.empty() && admin.lookupValue("listen", value) && !value.empty()) {
        options.admin = value;
    }
    if (options.token.empty() && admin.lookupValue("token", value) && !value.empty()) {
        options.token = value;
    }
    if (options.token.empty() && admin.lookupValue("token_file", value) && !value.empty()) {
        options.token = read_file(value);
    }
}

struct Response {
    int status = 0;
    std::string body;
};

Response http(const Options& options, const std::string& method, const std::string& target) {
    const auto address = hearth::TransportAddress::parse(options.admin);
    if (!address) {
        usage_error("admin address '" + options.admin + "' is not HOST:PORT");
    }
    sockaddr_storage storage;
    const socklen_t length = address->to_sockaddr(storage);
    const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        node_error("node unreachable at " + options.admin + " (is hearthd running?)");
    }
    const std::string request = method + " " + target + " HTTP/1.0\r\nHost: " + options.admin +
                                "\r\nAuthorization: Bearer " + options.token +
                                "\r\nContent-Length: 0\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        ::close(fd);
        node_error("node unreachable at " + options.admin);
    }
    std::string answer;
    char buffer[16384];
    for (;;) {
        const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
        if (received <= 0) {
            break;
        }
        answer.append(buffer, static_cast<std::size_t>(received));
        if (answer.size() > 64 * 1024 * 1024) {
            break;  // bounded: no admin answer is this large
        }
    }
    ::close(fd);
    Response response;
    if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) {
        node_error("no HTTP answer from " + options.admin);
    }
    response.status = std::atoi(answer.c_str() + 9);
    const auto body = answer.find("\r\n\r\n");
    response.body = body == std::string::npos ? "" : answer.substr(body + 4);
    if (response.status == 401) {
        node_error("bad admin token (set --token, HEARTH_ADMIN_TOKEN or admin.token_file)");
    }
    return response;
}

JsonValue json_of(const Response& response) {
    auto parsed = hearth::admin::parse_json(response.body);
    if (!parsed) {
        node_error("the node answered something that is not JSON");
    }
    return *parsed;
}

// Prints `rows` under `header`, columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) {
        widths[i] = header[i].size();
        for (const auto& row : rows) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            text += cells[i] + std::string(widths[i] - cells[i].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') {
            text.pop_back();
        }
        std::puts(text.c_str());
    };
    line(header);
    for (const auto& row : rows) {
        line(row);
    }
}

std::string field(const JsonValue& value, std::string_view key) {
    const JsonValue* found = value.get(key);
    return found != nullptr ? found->text() : "";
}

// --name VALUE pairs after the command; anything else is an error.
std::map<std::string, std::string> flags_of(const std::vector<std::string>& arguments,
                                            std::initializer_list<const char*> allowed,
                                            std::vector<std::string>* positional = nullptr) {
    std::map<std::string, std::string> flags;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (argument.rfind("--", 0) != 0) {
            if (positional == nullptr) {
                usage_error("unexpected argument '" + argument + "'");
            }
            positional->push_back(argument);
            continue;
        }
        const std::string name = argument.substr(2);
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            usage_error("unknown flag '" + argument + "'");
        }
        if (i + 1 >= arguments.size()) {
            usage_error(argument + " needs a value");
        }
        flags[name] = arguments[++i];
    }
    return flags;
}

std::string url_encode(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@') {
            out += static_cast<char>(c);
        } else {
            char buffer[4];
            std::snprintf(buffer, sizeof buffer, "%%%02X", c);
            out += buffer;
        }
    }
    return out;
}

int finish(const Options& options, const Response& response,
           const std::function<void(const JsonValue&)>& print) {
    if (response.status != 200) {
        const auto parsed = hearth::admin::parse_json(response.body);
        const std::string message = parsed ? field(*parsed, "error") : response.body;
        std::fprintf(stderr, "hearthctl: %s\n", message.c_str());
        return 1;
    }
    if (options.json) {
        std::puts(response.body.c_str());
        return 0;
    }
    print(json_of(response));
    return 0;
}

// One frame of `top`: allocations sorted by total rate or by loss, busiest first.
std::string top_frame(const JsonValue& answer, bool by_loss) {
    struct Row {
        std::vector<std::string> cells;
        double rate;
        double loss;
    };
    std::vector<Row> rows;
    const auto number = [](const JsonValue* value, std::string_view key) {
        const JsonValue* found = value != nullptr ? value->get(key) : nullptr;
        const double* parsed = found != nullptr ? std::get_if<double>(&found->data) : nullptr;
        return parsed != nullptr ? *parsed : 0.0;
    };
    if (const auto* allocations = answer.get("allocations")) {
        for (const auto& allocation : *allocations->array()) {
            const JsonValue* up = allocation.get("client_to_peer");
            const JsonValue* down = allocation.get("peer_to_client");
            const double rate = number(up, "bits_per_second") + number(down, "bits_per_second");
            const double expected = number(up ? up->get("rtp") : nullptr, "expected") +
                                    number(down ? down->get("rtp") : nullptr, "expected");
            const double lost = number(up ? up->get("rtp") : nullptr, "lost") +
                                number(down ? down->get("rtp") : nullptr, "lost");
            const double loss = expected > 0 ? 100.0 * lost / expected : 0.0;
            char rate_text[32];
            char loss_text[32];
            std::snprintf(rate_text, sizeof rate_text, "%.1f kbit/s", rate / 1000.0);
            std::snprintf(loss_text, sizeof loss_text, "%.1f %%", loss);
            rows.push_back({{field(allocation, "id"), field(allocation, "session"),
                             field(allocation, "user"), field(allocation, "transport"), rate_text,
                             loss_text, field(allocation, "quality")},
                            rate,
                            loss});
        }
    }
    std::sort(rows.begin(), rows.end(), [by_loss](const Row& a, const Row& b) {
        return by_loss ? a.loss > b.loss : a.rate > b.rate;
    });
    std::string frame;
    char header[160];
    std::snprintf(header, sizeof header, "%-18s %-16s %-12s %-5s %14s %8s %7s\n", "ID", "SESSION",
                  "USER", "PROTO", "RATE", "LOSS", "QUALITY");
    frame += header;
    for (const auto& row : rows) {
        char line[256];
        std::snprintf(line, sizeof line, "%-18s %-16s %-12s %-5s %14s %8s %7s\n",
                      row.cells[0].c_str(), row.cells[1].c_str(), row.cells[2].c_str(),
                      row.cells[3].c_str(), row.cells[4].c_str(), row.cells[5].c_str(),
                      row.cells[6].c_str());
        frame += line;
    }
    return frame;
}

int run_top(const Options& options, bool once) {
    if (once || options.json || isatty(STDIN_FILENO) == 0) {
        const auto response = http(options, "GET", "/v1/allocations");
        if (response.status != 200 || options.json) {
            return finish(options, response, [](const JsonValue&) {});
        }
        std::fputs(top_frame(json_of(response), false).c_str(), stdout);
        return 0;
    }
    termios saved{};
    tcgetattr(STDIN_FILENO, &saved);
    termios raw = saved;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    bool by_loss = false;
    int status = 0;
    for (;;) {
        const auto response = http(options, "GET", "/v1/allocations");
        if (response.status != 200) {
            status = 1;
            break;
        }
        std::printf("\x1b[H\x1b[2J%s\nsorted by %s   r: rate  l: loss  q: quit\n",
                    top_frame(json_of(response), by_loss).c_str(), by_loss ? "loss" : "rate");
        std::fflush(stdout);
        pollfd input{STDIN_FILENO, POLLIN, 0};
        if (poll(&input, 1, 2000) > 0) {
            char key = 0;
            if (read(STDIN_FILENO, &key, 1) <= 0 || key == 'q') {
                break;
            }
            by_loss = key == 'l' ? true : key == 'r' ? false : by_loss;
        }
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string argument = argv[i];
        if ((argument == "--help" || argument == "-h" || argument == "help") &&
            options.command.empty()) {
            std::fputs(usage, stdout);
            std::puts("then 127.0.0.1:9478 and the token in /run/hearth/admin.token.");
            return 0;
        }
        if (argument == "--json") {
            options.json = true;
        } else if (argument == "--admin" || argument == "--token" || argument == "--config") {
            if (i + 1 >= argc) {
                usage_error(argument + " needs a value");
            }
            (argument == "--admin"   ? options.admin
             : argument == "--token" ? options.token
                                     : options.config) = argv[++i];
        } else if (argument.rfind("--", 0) == 0 && options.command.empty()) {
            usage_error("unknown flag '" + argument + "'");
        } else if (options.command.empty()) {
            options.command = argument;
        } else {
            options.arguments.push_back(argument);
        }
    }
    if (options.command.empty()) {
        usage_error("a command is needed");
    }
    if (std::find(options.arguments.begin(), options.arguments.end(), "--help") !=
            options.arguments.end() ||
        std::find(options.arguments.begin(), options.arguments.end(), "-h") !=
            options.arguments.end()) {
        const auto help = command_help.find(options.command);
        if (help == command_help.end()) {
            usage_error("unknown command '" + options.command + "'");
        }
        std::puts(help->second.c_str());
        return 0;
    }
    if (options.admin.empty() && std::getenv("HEARTH_ADMIN") != nullptr) {
        options.admin = std::getenv("HEARTH_ADMIN");
    }
    if (options.token.empty() && std::getenv("HEARTH_ADMIN_TOKEN") != nullptr) {
        options.token = std::getenv("HEARTH_ADMIN_TOKEN");
    }
    fill_from_config(options);
    if (options.admin.empty()) {
        options.admin = default_admin;
    }
    if (options.token.empty()) {
        options.token = read_file(default_token_file);
    }

    const std::string& command = options.command;
    if (command == "status" && !options.arguments.empty() && options.arguments[0] == "--all") {
        options.arguments.erase(options.arguments.begin());
        flags_of(options.arguments, {});
        return finish(options, http(options, "GET", "/v1/nodes"), [](const JsonValue& answer) {
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
    if (command == "drain" || command == "undrain") {
        auto flags = flags_of(options.arguments,
                              command == "drain" ? std::initializer_list<const char*>{"deadline"}
                                                 : std::initializer_list<const char*>{});
        std::string target = "/v1/" + command;
        if (!flags["deadline"].empty()) {
            target += "?deadline=" + url_encode(flags["deadline"]);
        }
        return finish(options, http(options, "POST", target), [&command](const JsonValue&) {
            std::puts(command == "drain"
                          ? "draining: new allocations are redirected; hearthd exits when the "
                            "last one ends"
                          : "accepting new allocations");
        });
    }
    if (command == "status") {
        flags_of(options.arguments, {});
        return finish(options, http(options, "GET", "/health"), [](const JsonValue& health) {
            print_table({"STATUS", "UPTIME", "WORKERS", "ALLOCATIONS", "CONNECTIONS", "STORE"},
                        {{field(health, "status"), field(health, "uptime_seconds") + "s",
                          field(health, "workers"), field(health, "allocations"),
                          field(health, "connections"),
                          field(health, "session_store") + " (" +
                              field(health, "session_store_state") + ")"}});
        });
    }
    if (command == "allocations") {
        auto flags = flags_of(options.arguments, {"session", "user"});
        std::string target = "/v1/allocations?session=" + url_encode(flags["session"]) +
                             "&user=" + url_encode(flags["user"]);
        return finish(options, http(options, "GET", target), [](const JsonValue& answer) {
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
            print_table({"ID", "SESSION", "USER", "CLIENT", "TRANSPORT", "SENT_BYTES",
                         "RECEIVED_BYTES", "EXPIRES_IN"},
                        rows);
        });
    }
    if (command == "sessions") {
        flags_of(options.arguments, {});
        return finish(options, http(options, "GET", "/v1/sessions"), [](const JsonValue& answer) {
            std::vector<std::vector<std::string>> rows;
            if (const auto* sessions = answer.get("sessions")) {
                for (const auto& session : *sessions->array()) {
                    std::string participants;
                    if (const auto* list = session.get("participants")) {
                        for (const auto& participant : *list->array()) {
                            participants += (participants.empty() ? "" : ",") + participant.text();
                        }
                    }
                    rows.push_back({field(session, "id"), field(session, "state"), participants,
                                    field(session, "allocation_cap")});
                }
            }
            print_table({"SESSION", "STATE", "PARTICIPANTS", "ALLOCATION_CAP"}, rows);
        });
    }
    if (command == "revoke") {
        std::vector<std::string> positional;
        auto flags = flags_of(options.arguments, {"user"}, &positional);
        if (positional.size() != 1) {
            usage_error("revoke takes one SESSION");
        }
        const std::string target = "/v1/sessions/" + url_encode(positional[0]) +
                                   "/revoke?user=" + url_encode(flags["user"]);
        return finish(options, http(options, "POST", target), [](const JsonValue& answer) {
            std::printf(
                "revoked %s%s: %s allocation(s) torn down\n", field(answer, "session").c_str(),
                field(answer, "user").empty() ? "" : (" for " + field(answer, "user")).c_str(),
                field(answer, "allocations_deleted").c_str());
        });
    }
    if (command == "mint") {
        auto flags = flags_of(options.arguments, {"session", "user", "ttl"});
        if (flags["session"].empty() || flags["user"].empty()) {
            usage_error("mint needs --session and --user");
        }
        std::string target = "/v1/credentials?session=" + url_encode(flags["session"]) +
                             "&user=" + url_encode(flags["user"]);
        if (!flags["ttl"].empty()) {
            target += "&ttl=" + url_encode(flags["ttl"]);
        }
        // Minting always prints the RTCIceServer JSON: it is what a user pastes.
        options.json = true;
        return finish(options, http(options, "POST", target), [](const JsonValue&) {});
    }
    if (command == "reload") {
        flags_of(options.arguments, {});
        const auto response = http(options, "POST", "/v1/reload");
        if (options.json || response.status == 200) {
            if (options.json) {
                std::puts(response.body.c_str());
                return response.status == 200 ? 0 : 1;
            }
            const auto report = json_of(response);
            std::string live;
            std::string restart;
            for (const auto& key : *report.get("applied_live")->array()) {
                live += (live.empty() ? "" : ", ") + key.text();
            }
            for (const auto& key : *report.get("needs_restart")->array()) {
                restart += (restart.empty() ? "" : ", ") + key.text();
            }
            std::printf("reloaded: %s\n", live.c_str());
            if (!restart.empty()) {
                std::printf("changed but needs a restart: %s\n", restart.c_str());
            }
            return 0;
        }
        const auto report = hearth::admin::parse_json(response.body);
        const JsonValue* errors = report ? report->get("errors") : nullptr;
        std::fprintf(stderr, "hearthctl: config refused, the running one stays: %s\n",
                     errors != nullptr && !errors->array()->empty()
                         ? errors->array()->front().text().c_str()
                         : response.body.c_str());
        return 1;
    }
    if (command == "secrets") {
        std::vector<std::string> positional;
        flags_of(options.arguments, {}, &positional);
        const std::string action = positional.empty() ? "list" : positional[0];
        if (action == "list" && positional.size() <= 1) {
            return finish(options, http(options, "GET", "/v1/secrets"),
                          [](const JsonValue& answer) {
                              std::vector<std::vector<std::string>> rows;
                              for (const auto& secret : *answer.get("secrets")->array()) {
                                  rows.push_back({field(secret, "name"), field(secret, "source")});
                              }
                              if (!rows.empty()) {
                                  rows.back().push_back("(mints)");
                                  for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
                                      rows[i].push_back("");
                                  }
                              }
                              print_table({"NAME", "SOURCE", ""}, rows);
                          });
        }
        if (action == "add" && positional.size() == 3) {
            return finish(options,
                          http(options, "POST",
                               "/v1/secrets?name=" + url_encode(positional[1]) +
                                   "&value=" + url_encode(positional[2])),
                          [&positional](const JsonValue&) {
                              std::printf("added %s; minting uses it if its name sorts last\n",
                                          positional[1].c_str());
                          });
        }
        if (action == "retire" && positional.size() == 2) {
            return finish(
                options,
                http(options, "POST", "/v1/secrets/" + url_encode(positional[1]) + "/retire"),
                [&positional](const JsonValue&) {
                    std::printf("retired %s\n", positional[1].c_str());
                });
        }
        usage_error("secrets takes list, add NAME VALUE, or retire NAME");
    }
    if (command == "top") {
        const bool once = std::erase(options.arguments, std::string("--once")) > 0;
        flags_of(options.arguments, {});
        return run_top(options, once);
    }
    if (command == "metrics") {
        flags_of(options.arguments, {});
        const auto response = http(options, "GET", "/metrics");
        std::fputs(response.body.c_str(), stdout);
        return response.status == 200 ? 0 : 1;
    }
    usage_error("unknown command '" + command + "'");
}
