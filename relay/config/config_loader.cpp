// Reads etc/hearth.conf (libconfig syntax) into a Config. Every error is collected with
// its line, unknown keys included, so an operator fixes a file in one pass.

#include <algorithm>
#include <fstream>
#include <functional>
#include <libconfig.h++>
#include <set>
#include <sstream>

#include "relay/config/config.h"

namespace hearth::config {

std::string ConfigError::to_string() const {
    if (line > 0) {
        return file + ":" + std::to_string(line) + ": " + message;
    }
    return file + ": " + message;
}

namespace {

using libconfig::Setting;

constexpr std::size_t min_secret_length = 16;

class Reader {
  public:
    Reader(std::string file, std::vector<ConfigError>& errors)
        : file_(std::move(file)), errors_(errors) {}

    void error(const Setting& setting, const std::string& message) {
        errors_.push_back(
            {file_, static_cast<int>(setting.getSourceLine()), path_of(setting) + ": " + message});
    }

    static std::string path_of(const Setting& setting) {
        std::string path = setting.getPath();
        return path.empty() ? "(root)" : path;
    }

    // Reports every child of a group whose name is not in `known`.
    void only_keys(const Setting& group, std::initializer_list<const char*> known) {
        for (int i = 0; i < group.getLength(); ++i) {
            const Setting& child = group[i];
            const char* name = child.getName();
            if (name == nullptr) {
                continue;
            }
            if (std::none_of(known.begin(), known.end(),
                             [name](const char* key) { return std::string_view(key) == name; })) {
                error(child, "unknown key");
            }
        }
    }

    const Setting* group(const Setting& parent, const char* key) {
        if (!parent.exists(key)) {
            return nullptr;
        }
        const Setting& child = parent[key];
        if (!child.isGroup()) {
            error(child, "must be a group { ... }");
            return nullptr;
        }
        return &child;
    }

    std::optional<std::string> text(const Setting& parent, const char* key) {
        if (!parent.exists(key)) {
            return std::nullopt;
        }
        const Setting& child = parent[key];
        if (child.getType() != Setting::TypeString) {
            error(child, "must be a string");
            return std::nullopt;
        }
        return std::string(static_cast<const char*>(child));
    }

    std::optional<long long> number(const Setting& parent, const char* key, long long min,
                                    long long max) {
        if (!parent.exists(key)) {
            return std::nullopt;
        }
        const Setting& child = parent[key];
        if (child.getType() != Setting::TypeInt && child.getType() != Setting::TypeInt64) {
            error(child, "must be an integer");
            return std::nullopt;
        }
        const long long value = child.getType() == Setting::TypeInt
                                    ? static_cast<long long>(static_cast<int>(child))
                                    : static_cast<long long>(child);
        if (value < min || value > max) {
            error(child, "must be between " + std::to_string(min) + " and " + std::to_string(max));
            return std::nullopt;
        }
        return value;
    }

    std::optional<bool> boolean(const Setting& parent, const char* key) {
        if (!parent.exists(key)) {
            return std::nullopt;
        }
        const Setting& child = parent[key];
        if (child.getType() != Setting::TypeBoolean) {
            error(child, "must be true or false");
            return std::nullopt;
        }
        return static_cast<bool>(child);
    }

    // An array (or list) of strings, each checked by `accept`, which reports its own errors.
    template <typename Accept>
    bool strings(const Setting& parent, const char* key, Accept accept) {
        if (!parent.exists(key)) {
            return false;
        }
        const Setting& array = parent[key];
        if (!array.isArray() && !array.isList()) {
            error(array, "must be an array [ \"...\", ... ]");
            return true;
        }
        for (int i = 0; i < array.getLength(); ++i) {
            const Setting& item = array[i];
            if (item.getType() != Setting::TypeString) {
                error(item, "must be a string");
                continue;
            }
            accept(item, std::string(static_cast<const char*>(item)));
        }
        return true;
    }

    std::vector<TransportAddress> addresses(const Setting& parent, const char* key,
                                            std::vector<TransportAddress> fallback) {
        std::vector<TransportAddress> found;
        const bool present =
            strings(parent, key, [&](const Setting& item, const std::string& value) {
                if (const auto address = TransportAddress::parse(value)) {
                    found.push_back(*address);
                } else {
                    error(item,
                          "'" + value + "' is not an address:port (e.g. 0.0.0.0:3478, [::]:3478)");
                }
            });
        return present ? found : fallback;
    }

  private:
    std::string file_;
    std::vector<ConfigError>& errors_;
};

std::optional<LogLevel> log_level_of(std::string_view name) {
    if (name == "trace")
        return LogLevel::trace;
    if (name == "debug")
        return LogLevel::debug;
    if (name == "info")
        return LogLevel::info;
    if (name == "warn")
        return LogLevel::warn;
    if (name == "error")
        return LogLevel::error;
    return std::nullopt;
}

std::optional<auth::SessionState> session_state_of(std::string_view name) {
    if (name == "scheduled")
        return auth::SessionState::scheduled;
    if (name == "active")
        return auth::SessionState::active;
    if (name == "ended")
        return auth::SessionState::ended;
    return std::nullopt;
}

bool starts_with_change_me(std::string_view value) {
    return value.substr(0, 9) == "CHANGE-ME";
}

void read_root(const Setting& root, Reader& reader, Config& config) {
    reader.only_keys(
        root, {"log_level", "workers", "pin_workers", "realm", "software", "public_host", "listen",
               "relay", "tls", "drain", "limits", "auth", "session_store", "peer_policy", "admin"});
    if (const auto level = reader.text(root, "log_level")) {
        if (const auto parsed = log_level_of(*level)) {
            config.log_level = *parsed;
        } else {
            reader.error(root["log_level"], "must be trace, debug, info, warn or error");
        }
    }
    if (const auto workers = reader.number(root, "workers", 0, 256)) {
        config.workers = static_cast<unsigned>(*workers);
    }
    config.pin_workers = reader.boolean(root, "pin_workers").value_or(false);
    if (const auto realm = reader.text(root, "realm")) {
        // 64, not RFC 8489's 127: a longer realm would enlarge every 401 past
        // turn::max_unauthenticated_growth.
        if (realm->empty() || realm->size() > 64) {
            reader.error(root["realm"], "must be 1 to 64 characters");
        } else {
            config.realm = *realm;
        }
    }
    config.public_host = reader.text(root, "public_host").value_or("");
    if (const auto software = reader.text(root, "software")) {
        config.software = software->substr(0, 127);
    }
}

void read_listen(const Setting& root, Reader& reader, Config& config) {
    const TransportAddress any{*IpAddress::parse("0.0.0.0"), 3478};
    const Setting* listen = reader.group(root, "listen");
    if (listen == nullptr) {
        config.listen_udp = {any};
        config.listen_tcp = {any};
        return;
    }
    reader.only_keys(*listen, {"udp", "tcp", "tls"});
    config.listen_udp = reader.addresses(*listen, "udp", {any});
    config.listen_tcp = reader.addresses(*listen, "tcp", {any});
    config.listen_tls = reader.addresses(*listen, "tls", {});
}

void read_relay(const Setting& root, Reader& reader, Config& config) {
    const Setting* relay = reader.group(root, "relay");
    if (relay == nullptr) {
        return;
    }
    reader.only_keys(*relay, {"ipv4", "ipv6", "port_min", "port_max"});
    const auto family_address = [&](const char* key, AddressFamily family,
                                    std::optional<IpAddress>& out) {
        const auto value = reader.text(*relay, key);
        if (!value || value->empty()) {
            return;
        }
        if (starts_with_change_me(*value)) {
            reader.error((*relay)[key], family == AddressFamily::ipv4
                                            ? "set this host's public IPv4 address"
                                            : "set this host's public IPv6 address, or \"\"");
            return;
        }
        const auto address = IpAddress::parse(*value);
        if (!address || address->family != family) {
            reader.error((*relay)[key], "'" + *value + "' is not an " +
                                            (family == AddressFamily::ipv4 ? "IPv4" : "IPv6") +
                                            " address");
            return;
        }
        out = *address;
    };
    family_address("ipv4", AddressFamily::ipv4, config.relay_ipv4);
    family_address("ipv6", AddressFamily::ipv6, config.relay_ipv6);
    if (const auto port = reader.number(*relay, "port_min", 1024, 65535)) {
        config.relay_port_min = static_cast<std::uint16_t>(*port);
    }
    if (const auto port = reader.number(*relay, "port_max", 1024, 65535)) {
        config.relay_port_max = static_cast<std::uint16_t>(*port);
    }
    if (config.relay_port_min > config.relay_port_max) {
        reader.error(*relay, "port_min must not be above port_max");
    }
}

void read_tls(const Setting& root, Reader& reader, Config& config) {
    const Setting* tls = reader.group(root, "tls");
    if (tls != nullptr) {
        reader.only_keys(*tls, {"certificate", "private_key"});
        config.tls_certificate = reader.text(*tls, "certificate").value_or("");
        config.tls_private_key = reader.text(*tls, "private_key").value_or("");
    }
    if (!config.listen_tls.empty() &&
        (config.tls_certificate.empty() || config.tls_private_key.empty())) {
        reader.error(tls != nullptr ? *tls : root,
                     "listen.tls needs tls.certificate and tls.private_key");
    }
}

void read_limits(const Setting& root, Reader& reader, Config& config) {
    const Setting* limits = reader.group(root, "limits");
    if (limits == nullptr) {
        return;
    }
    reader.only_keys(*limits, {"allocation_lifetime_default",
                               "allocation_lifetime_max",
                               "nonce_lifetime",
                               "max_allocations",
                               "max_allocations_per_user",
                               "max_permissions_per_allocation",
                               "max_channels_per_allocation",
                               "unauthenticated_requests_per_second",
                               "allocate_requests_per_second",
                               "upkeep_requests_per_second",
                               "stream_output_buffer_bytes",
                               "stream_idle_timeout",
                               "tls_handshake_timeout",
                               "max_connections",
                               "max_connections_per_source",
                               "auth_failures_before_ban",
                               "auth_failure_window",
                               "auth_ban",
                               "allocation_bandwidth_bps",
                               "session_bandwidth_bps"});
    const auto seconds = [&](const char* key, std::chrono::seconds& out) {
        if (const auto value = reader.number(*limits, key, 1, 86400)) {
            out = std::chrono::seconds(*value);
        }
    };
    seconds("allocation_lifetime_default", config.allocation_lifetime_default);
    seconds("allocation_lifetime_max", config.allocation_lifetime_max);
    seconds("nonce_lifetime", config.nonce_lifetime);
    if (config.allocation_lifetime_default > config.allocation_lifetime_max) {
        reader.error(*limits,
                     "allocation_lifetime_default must not exceed allocation_lifetime_max");
    }
    const auto count = [&](const char* key, std::uint32_t& out, long long min, long long max) {
        if (const auto value = reader.number(*limits, key, min, max)) {
            out = static_cast<std::uint32_t>(*value);
        }
    };
    count("max_allocations", config.max_allocations, 1, 10'000'000);
    count("max_allocations_per_user", config.max_allocations_per_user, 1, 100'000);
    count("max_permissions_per_allocation", config.max_permissions_per_allocation, 1, 1024);
    count("max_channels_per_allocation", config.max_channels_per_allocation, 1, 4096);
    count("unauthenticated_requests_per_second", config.unauthenticated_requests_per_second, 0,
          1'000'000);
    count("allocate_requests_per_second", config.allocate_requests_per_second, 0, 1'000'000);
    count("upkeep_requests_per_second", config.upkeep_requests_per_second, 0, 1'000'000);
    count("stream_output_buffer_bytes", config.stream_output_buffer_bytes, 4096, 64 * 1024 * 1024);
    seconds("stream_idle_timeout", config.stream_idle_timeout);
    seconds("tls_handshake_timeout", config.tls_handshake_timeout);
    count("max_connections", config.max_connections, 1, 1'000'000);
    count("auth_failures_before_ban", config.auth_failures_before_ban, 0, 1'000'000);
    seconds("auth_failure_window", config.auth_failure_window);
    seconds("auth_ban", config.auth_ban);
    count("max_connections_per_source", config.max_connections_per_source, 1, 100'000);
    const auto bits_per_second = [&](const char* key, std::uint64_t& out) {
        if (const auto value = reader.number(*limits, key, 0, 100'000'000'000LL)) {
            out = static_cast<std::uint64_t>(*value);
        }
    };
    bits_per_second("allocation_bandwidth_bps", config.allocation_bandwidth_bps);
    bits_per_second("session_bandwidth_bps", config.session_bandwidth_bps);
}

void read_auth(const Setting& root, Reader& reader, Config& config) {
    const Setting* auth = reader.group(root, "auth");
    if (auth == nullptr || !auth->exists("secrets")) {
        reader.error(auth != nullptr ? *auth : root,
                     "auth.secrets is required: at least one { name = \"...\"; value = \"...\" }");
        return;
    }
    reader.only_keys(*auth, {"secrets"});
    const Setting& secrets = (*auth)["secrets"];
    if (!secrets.isList() || secrets.getLength() == 0) {
        reader.error(secrets, "must be a non-empty list ( { name = ...; value = ...; } )");
        return;
    }
    std::set<std::string> names;
    for (int i = 0; i < secrets.getLength(); ++i) {
        const Setting& entry = secrets[i];
        if (!entry.isGroup()) {
            reader.error(entry, "must be a group { name = ...; value = ...; }");
            continue;
        }
        reader.only_keys(entry, {"name", "value"});
        const auto name = reader.text(entry, "name");
        const auto value = reader.text(entry, "value");
        if (!name || name->empty()) {
            reader.error(entry, "needs a non-empty name");
            continue;
        }
        if (!names.insert(*name).second) {
            reader.error(entry, "secret name '" + *name + "' appears twice");
        }
        if (!value || starts_with_change_me(*value)) {
            reader.error(entry,
                         "secret '" + *name + "': set a random value (openssl rand -hex 32)");
            continue;
        }
        if (value->size() < min_secret_length) {
            reader.error(entry["value"], "secret '" + *name + "' must be at least " +
                                             std::to_string(min_secret_length) + " characters");
            continue;
        }
        config.secrets.push_back({*name, *value});
    }
}

void read_sessions(const Setting& root, Reader& reader, Config& config) {
    const Setting* store = reader.group(root, "session_store");
    if (store == nullptr) {
        return;
    }
    reader.only_keys(*store, {"kind", "sessions", "redis"});
    if (const Setting* redis = reader.group(*store, "redis")) {
        reader.only_keys(*redis,
                         {"host", "port", "password", "grace", "node_id", "metrics_interval"});
        if (const auto interval = reader.number(*redis, "metrics_interval", 0, 3600)) {
            config.metrics_interval = std::chrono::seconds(*interval);
        }
        config.redis_host = reader.text(*redis, "host").value_or(config.redis_host);
        if (const auto port = reader.number(*redis, "port", 1, 65535)) {
            config.redis_port = static_cast<std::uint16_t>(*port);
        }
        config.redis_password = reader.text(*redis, "password").value_or("");
        if (const auto grace = reader.number(*redis, "grace", 0, 86400)) {
            config.redis_grace = std::chrono::seconds(*grace);
        }
        config.node_id = reader.text(*redis, "node_id").value_or("");
    }
    if (const auto kind = reader.text(*store, "kind")) {
        if (*kind != "embedded" && *kind != "redis") {
            reader.error((*store)["kind"], "must be \"embedded\" or \"redis\"");
        } else {
            config.session_store = *kind;
        }
    }
    if (!store->exists("sessions")) {
        return;
    }
    const Setting& sessions = (*store)["sessions"];
    if (!sessions.isList()) {
        reader.error(sessions, "must be a list ( { id = ...; participants = [...]; } )");
        return;
    }
    for (int i = 0; i < sessions.getLength(); ++i) {
        const Setting& entry = sessions[i];
        if (!entry.isGroup()) {
            reader.error(entry, "must be a group");
            continue;
        }
        reader.only_keys(
            entry, {"id", "state", "participants", "not_before", "not_after", "allocation_cap"});
        auth::Session seed;
        seed.id = reader.text(entry, "id").value_or("");
        if (seed.id.empty()) {
            reader.error(entry, "needs a non-empty id");
            continue;
        }
        if (const auto state = reader.text(entry, "state")) {
            if (const auto parsed = session_state_of(*state)) {
                seed.state = *parsed;
            } else {
                reader.error(entry["state"], "must be scheduled, active or ended");
            }
        }
        reader.strings(entry, "participants", [&](const Setting& item, const std::string& user) {
            if (user.empty()) {
                reader.error(item, "participant must not be empty");
            } else {
                seed.participants.push_back(user);
            }
        });
        seed.not_before_unix = reader.number(entry, "not_before", 0, 1LL << 40).value_or(0);
        seed.not_after_unix = reader.number(entry, "not_after", 0, 1LL << 40).value_or(0);
        seed.allocation_cap = static_cast<std::uint32_t>(
            reader.number(entry, "allocation_cap", 1, 10000).value_or(4));
        config.sessions.push_back(std::move(seed));
    }
}

void read_peer_policy(const Setting& root, Reader& reader, Config& config) {
    const Setting* policy = reader.group(root, "peer_policy");
    if (policy == nullptr) {
        return;
    }
    reader.only_keys(*policy, {"allow"});
    reader.strings(*policy, "allow", [&](const Setting& item, const std::string& value) {
        if (const auto range = AddressRange::parse(value)) {
            config.peer_allow.push_back(*range);
        } else {
            reader.error(item, "'" + value + "' is not a CIDR range (e.g. 10.0.0.0/8)");
        }
    });
}

void read_drain(const Setting& root, Reader& reader, Config& config) {
    const Setting* drain = reader.group(root, "drain");
    if (drain == nullptr) {
        return;
    }
    reader.only_keys(*drain,
                     {"alternate_server", "alternate_domain", "deadline", "sigterm_deadline"});
    if (const auto alternate = reader.text(*drain, "alternate_server");
        alternate && !alternate->empty()) {
        if (const auto address = TransportAddress::parse(*alternate)) {
            config.alternate_server = *address;
        } else {
            reader.error((*drain)["alternate_server"],
                         "'" + *alternate + "' is not an address:port");
        }
    }
    config.alternate_domain = reader.text(*drain, "alternate_domain").value_or("");
    if (const auto deadline = reader.number(*drain, "deadline", 1, 7 * 86400)) {
        config.drain_deadline = std::chrono::seconds(*deadline);
    }
    if (const auto deadline = reader.number(*drain, "sigterm_deadline", 0, 86400)) {
        config.sigterm_drain_deadline = std::chrono::seconds(*deadline);
    }
}

void read_admin(const Setting& root, Reader& reader, Config& config) {
    const Setting* admin = reader.group(root, "admin");
    if (admin == nullptr) {
        return;
    }
    reader.only_keys(*admin, {"listen", "token", "token_file", "per_allocation_metrics"});
    if (const auto listen = reader.text(*admin, "listen")) {
        if (listen->empty()) {
            config.admin_listen.reset();
        } else if (const auto address = TransportAddress::parse(*listen)) {
            config.admin_listen = *address;
        } else {
            reader.error((*admin)["listen"], "'" + *listen + "' is not an address:port");
        }
    }
    config.admin_token = reader.text(*admin, "token").value_or("");
    if (!config.admin_token.empty() && config.admin_token.size() < 16) {
        reader.error((*admin)["token"], "must be at least 16 characters, or \"\" to generate one");
    }
    config.admin_token_file = reader.text(*admin, "token_file").value_or("");
    config.metrics_per_allocation =
        reader.boolean(*admin, "per_allocation_metrics").value_or(false);
}

}  // namespace

LoadResult load_config_text(const std::string& text, const std::string& name_for_errors) {
    LoadResult result;
    libconfig::Config parsed;
    try {
        parsed.readString(text);
    } catch (const libconfig::ParseException& exception) {
        result.errors.push_back({name_for_errors, exception.getLine(), exception.getError()});
        return result;
    }
    Reader reader(name_for_errors, result.errors);
    Config config;
    const Setting& root = parsed.getRoot();
    try {
        read_root(root, reader, config);
        read_listen(root, reader, config);
        read_relay(root, reader, config);
        read_tls(root, reader, config);
        read_limits(root, reader, config);
        read_auth(root, reader, config);
        read_sessions(root, reader, config);
        read_peer_policy(root, reader, config);
        read_drain(root, reader, config);
        read_admin(root, reader, config);
    } catch (const libconfig::SettingException& exception) {
        result.errors.push_back(
            {name_for_errors, 0, std::string(exception.getPath()) + ": " + exception.what()});
    }
    if (result.errors.empty()) {
        result.config = std::move(config);
    }
    return result;
}

LoadResult load_config_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        LoadResult result;
        result.errors.push_back({path, 0, "cannot be read"});
        return result;
    }
    std::ostringstream text;
    text << file.rdbuf();
    // Bounded input: a config is a few kilobytes; refuse anything absurd.
    if (text.str().size() > 1024 * 1024) {
        LoadResult result;
        result.errors.push_back({path, 0, "larger than 1 MiB"});
        return result;
    }
    return load_config_text(text.str(), path);
}

}  // namespace hearth::config
