// Reads etc/hearth.conf (libconfig syntax) into a Config, section by section from each
// section's keys(). Every error is collected with its line, unknown keys included, so an
// operator fixes a file in one pass.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <libconfig.h++>
#include <set>
#include <sstream>

#include "relay/config/config.h"
#include "relay/config/setting_reader.h"

namespace hearth::config {

std::string ConfigError::to_string() const {
    if (line > 0) {
        return file + ":" + std::to_string(line) + ": " + message;
    }
    return file + ": " + message;
}

namespace {

using libconfig::Setting;

// A Config visitor that reads one group of the file into the values it is handed.
class Loader {
  public:
    Loader(SettingReader& reader, const Setting& group) : reader_(reader), group_(group) {}

    template <typename Integer>
    void number(const char* name, Reload, long long min, long long max, Integer& value) {
        if (const auto read = reader_.number(found(name), min, max)) {
            value = static_cast<Integer>(*read);
        }
    }
    void seconds(const char* name, Reload, long long min, long long max,
                 std::chrono::seconds& value) {
        if (const auto read = reader_.number(found(name), min, max)) {
            value = std::chrono::seconds(*read);
        }
    }
    void flag(const char* name, Reload, bool& value) {
        value = reader_.boolean(found(name)).value_or(value);
    }
    void text(const char* name, Reload, TextCheck check, std::string& value) {
        const Setting* setting = found(name);
        if (const auto read = reader_.text(setting)) {
            const char* refusal = check != nullptr ? check(*read) : nullptr;
            if (refusal != nullptr) {
                reader_.error(*setting, refusal);
            } else {
                value = *read;
            }
        }
    }
    void secret(const char* name, Reload reload, TextCheck check, std::string& value) {
        text(name, reload, check, value);
    }
    template <typename Choice>
    void choice(const char* name, Reload, Choice& value) {
        if (const Setting* setting = found(name)) {
            reader_.choice(*setting, value);
        }
    }
    void addresses(const char* name, Reload, std::vector<TransportAddress>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.addresses(*setting);
        }
    }
    void address(const char* name, Reload, std::optional<TransportAddress>& value) {
        if (const Setting* setting = found(name)) {
            reader_.optional_address(*setting, value);
        }
    }
    void relay_ip(const char* name, Reload, AddressFamily family, std::optional<IpAddress>& value) {
        if (const Setting* setting = found(name)) {
            reader_.relay_ip(*setting, family, value);
        }
    }
    void ranges(const char* name, Reload, std::vector<AddressRange>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.ranges(*setting);
        }
    }
    void ports(const char* name, Reload, std::vector<std::uint16_t>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.ports(*setting);
        }
    }
    void names(const char* name, Reload, std::vector<std::string>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.names(*setting);
        }
    }
    void secrets(const char* name, Reload, std::vector<auth::NamedSecret>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.secrets(*setting);
        }
    }
    void sessions(const char* name, Reload, std::vector<auth::Session>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.sessions(*setting);
        }
    }
    void upstreams(const char* name, Reload, std::vector<MuxUpstream>& value) {
        if (const Setting* setting = found(name)) {
            value = reader_.upstreams(*setting);
        }
    }
    template <typename Section>
    void group(const char* name, Section& section) {
        const Setting* setting = found(name);
        if (setting == nullptr) {
            return;  // every key keeps its default
        }
        if (!setting->isGroup()) {
            reader_.error(*setting, "must be a group { ... }");
            return;
        }
        Loader nested(reader_, *setting);
        Section::keys(nested, section);
        nested.report_unknown_keys();
    }

    // Every key of the group that no keys() call asked for is a typo or a stale key.
    void report_unknown_keys() {
        for (int i = 0; i < group_.getLength(); ++i) {
            const Setting& child = group_[i];
            if (child.getName() != nullptr && !known_.contains(child.getName())) {
                reader_.error(child, "unknown key");
            }
        }
    }

  private:
    const Setting* found(const char* name) {
        known_.insert(name);
        return group_.exists(name) ? &group_[name] : nullptr;
    }

    SettingReader& reader_;
    const Setting& group_;
    std::set<std::string, std::less<>> known_;
};

// What no single key can check: keys that must agree with each other.
void check_together(const Config& config, const Setting& root, SettingReader& reader) {
    const auto at = [&root](const char* path) -> const Setting& {
        return root.exists(path) ? root.lookup(path) : root;
    };
    // The external address is only what clients are told: something must be bound.
    if (config.relay.external_ipv4 && !config.relay.ipv4) {
        reader.error(at("relay"), "external_ipv4 needs ipv4, the address relayed sockets bind");
    }
    if (config.relay.external_ipv6 && !config.relay.ipv6) {
        reader.error(at("relay"), "external_ipv6 needs ipv6, the address relayed sockets bind");
    }
    if (config.relay.port_min > config.relay.port_max) {
        reader.error(at("relay"), "port_min must not be above port_max");
    }
    if (config.limits.allocation_lifetime_default > config.limits.allocation_lifetime_max) {
        reader.error(at("limits"),
                     "allocation_lifetime_default must not exceed allocation_lifetime_max");
    }
    // On a multiplexing listener, TLS without an upstream's name is TURN over TLS.
    if (config.serves_tls() && (config.tls.certificate.empty() || config.tls.private_key.empty())) {
        reader.error(at("tls"), config.listen.tls.empty()
                                    ? "listen.mux needs tls.certificate and tls.private_key"
                                    : "listen.tls needs tls.certificate and tls.private_key");
    }
    if (config.auth.secrets.empty() && !(root.exists("auth") && root["auth"].exists("secrets"))) {
        reader.error(at("auth"),
                     "auth.secrets is required: at least one { name = \"...\"; value = \"...\" }");
    }
}

// libconfig says only what went wrong ("syntax error", "mismatched element type in
// array"), never what it expected; the line it stopped at, quoted, shows the operator where.
// Past the last line, the file ended inside something left open.
std::string syntax_error_message(const libconfig::ParseException& exception,
                                 const std::string& text) {
    std::string message = exception.getError();
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        if (number == exception.getLine()) {
            const auto first = line.find_first_not_of(" \t");
            if (first != std::string::npos) {
                constexpr std::size_t shown = 80;
                const std::string quoted = line.substr(first, shown);
                return message + " in '" + quoted + (line.size() - first > shown ? "...'" : "'");
            }
            break;
        }
    }
    return message +
           " at the end of the file: a group { }, list ( ) or array [ ], or a "
           "string, left open?";
}

}  // namespace

LoadResult load_config_text(const std::string& text, const std::string& name_for_errors) {
    LoadResult result;
    libconfig::Config parsed;
    try {
        parsed.readString(text);
    } catch (const libconfig::ParseException& exception) {
        result.errors.push_back(
            {name_for_errors, exception.getLine(), syntax_error_message(exception, text)});
        return result;
    }
    SettingReader reader(name_for_errors, result.errors);
    Config config;
    const Setting& root = parsed.getRoot();
    try {
        Loader loader(reader, root);
        Config::keys(loader, config);
        loader.report_unknown_keys();
        check_together(config, root, reader);
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
    // A directory opens as a stream that reads nothing (an empty config), and a device or
    // a pipe may never end: only a regular file is read.
    std::error_code error;
    const auto type = std::filesystem::status(path, error).type();
    if (type == std::filesystem::file_type::directory ||
        (!error && type != std::filesystem::file_type::regular)) {
        LoadResult result;
        result.errors.push_back({path, 0,
                                 type == std::filesystem::file_type::directory
                                     ? "is a directory, not a config file"
                                     : "is not a regular file"});
        return result;
    }
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
