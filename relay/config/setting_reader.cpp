#include "relay/config/setting_reader.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace hearth::config {

using libconfig::Setting;

namespace {

bool is_placeholder(std::string_view value) {
    return value.substr(0, 9) == "CHANGE-ME";
}

}  // namespace

void SettingReader::error(const Setting& setting, const std::string& message) {
    std::string path = setting.getPath();
    errors_.push_back({file_, static_cast<int>(setting.getSourceLine()),
                       (path.empty() ? "(root)" : path) + ": " + message});
}

void SettingReader::only_keys(const Setting& group, std::initializer_list<const char*> known) {
    for (int i = 0; i < group.getLength(); ++i) {
        const Setting& child = group[i];
        const char* name = child.getName();
        if (name != nullptr && std::none_of(known.begin(), known.end(), [name](const char* key) {
                return std::string_view(key) == name;
            })) {
            error(child, "unknown key");
        }
    }
}

std::optional<long long> SettingReader::number(const Setting* setting, long long min,
                                               long long max) {
    if (setting == nullptr) {
        return std::nullopt;
    }
    if (setting->getType() != Setting::TypeInt && setting->getType() != Setting::TypeInt64) {
        error(*setting, "must be an integer");
        return std::nullopt;
    }
    const long long value = setting->getType() == Setting::TypeInt
                                ? static_cast<long long>(static_cast<int>(*setting))
                                : static_cast<long long>(*setting);
    if (value < min || value > max) {
        error(*setting, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> SettingReader::boolean(const Setting* setting) {
    if (setting == nullptr) {
        return std::nullopt;
    }
    if (setting->getType() != Setting::TypeBoolean) {
        error(*setting, "must be true or false");
        return std::nullopt;
    }
    return static_cast<bool>(*setting);
}

std::optional<std::string> SettingReader::text(const Setting* setting) {
    if (setting == nullptr) {
        return std::nullopt;
    }
    if (setting->getType() != Setting::TypeString) {
        error(*setting, "must be a string");
        return std::nullopt;
    }
    return std::string(static_cast<const char*>(*setting));
}

void SettingReader::choice(const Setting& setting, LogLevel& value) {
    const auto name = text(&setting);
    for (const auto level :
         {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
        if (name && *name == to_string(level)) {
            value = level;
            return;
        }
    }
    if (name) {
        error(setting, "must be trace, debug, info, warn or error");
    }
}

void SettingReader::choice(const Setting& setting, StoreKind& value) {
    const auto name = text(&setting);
    for (const auto kind : {StoreKind::embedded, StoreKind::redis}) {
        if (name && *name == to_string(kind)) {
            value = kind;
            return;
        }
    }
    if (name) {
        error(setting, "must be \"embedded\" or \"redis\"");
    }
}

void SettingReader::choice(const Setting& setting, FastPathMode& value) {
    const auto name = text(&setting);
    for (const auto mode : {FastPathMode::native, FastPathMode::generic}) {
        if (name && *name == to_string(mode)) {
            value = mode;
            return;
        }
    }
    if (name) {
        error(setting, "must be \"native\" or \"generic\"");
    }
}

template <typename Accept>
void SettingReader::strings(const Setting& array, Accept accept) {
    if (!array.isArray() && !array.isList()) {
        error(array, "must be an array [ \"...\", ... ]");
        return;
    }
    for (int i = 0; i < array.getLength(); ++i) {
        const Setting& item = array[i];
        if (item.getType() != Setting::TypeString) {
            error(item, "must be a string");
            continue;
        }
        accept(item, std::string(static_cast<const char*>(item)));
    }
}

std::vector<TransportAddress> SettingReader::addresses(const Setting& setting) {
    std::vector<TransportAddress> found;
    strings(setting, [&](const Setting& item, const std::string& value) {
        if (const auto address = TransportAddress::parse(value)) {
            found.push_back(*address);
        } else {
            error(item, "'" + value + "' is not an address:port (e.g. 0.0.0.0:3478, [::]:3478)");
        }
    });
    return found;
}

void SettingReader::optional_address(const Setting& setting,
                                     std::optional<TransportAddress>& value) {
    const auto read = text(&setting);
    if (!read) {
        return;
    }
    if (read->empty()) {
        value.reset();
    } else if (const auto address = TransportAddress::parse(*read)) {
        value = *address;
    } else {
        error(setting, "'" + *read + "' is not an address:port");
    }
}

void SettingReader::relay_ip(const Setting& setting, AddressFamily family,
                             std::optional<IpAddress>& value) {
    const auto read = text(&setting);
    if (!read || read->empty()) {
        return;
    }
    const bool v4 = family == AddressFamily::ipv4;
    if (is_placeholder(*read)) {
        error(setting, v4 ? "set this host's public IPv4 address"
                          : "set this host's public IPv6 address, or \"\"");
        return;
    }
    const auto address = IpAddress::parse(*read);
    if (!address || address->family != family) {
        error(setting, "'" + *read + "' is not an " + (v4 ? "IPv4" : "IPv6") + " address");
        return;
    }
    value = *address;
}

std::vector<AddressRange> SettingReader::ranges(const Setting& setting) {
    std::vector<AddressRange> found;
    strings(setting, [&](const Setting& item, const std::string& value) {
        if (const auto range = AddressRange::parse(value)) {
            found.push_back(*range);
        } else {
            error(item, "'" + value + "' is not a CIDR range (e.g. 10.0.0.0/8)");
        }
    });
    return found;
}

std::vector<std::uint16_t> SettingReader::ports(const Setting& setting) {
    std::vector<std::uint16_t> found;
    if (!setting.isArray() && !setting.isList()) {
        error(setting, "must be an array of ports [ 25, 465 ]");
        return found;
    }
    for (int i = 0; i < setting.getLength(); ++i) {
        if (const auto port = number(&setting[i], 1, 65535)) {
            found.push_back(static_cast<std::uint16_t>(*port));
        }
    }
    return found;
}

std::vector<std::string> SettingReader::names(const Setting& setting) {
    std::vector<std::string> found;
    strings(setting, [&](const Setting& entry, const std::string& name) {
        constexpr std::size_t longest = 15;  // IFNAMSIZ - 1
        if (name.empty() || name.size() > longest ||
            name.find_first_of("/ \t:") != std::string::npos) {
            error(entry, "must be an interface name (1 to 15 characters, no '/', ':' or space)");
        } else {
            found.push_back(name);
        }
    });
    return found;
}

std::vector<auth::NamedSecret> SettingReader::secrets(const Setting& setting) {
    std::vector<auth::NamedSecret> found;
    if (!setting.isList() || setting.getLength() == 0) {
        error(setting, "must be a non-empty list ( { name = ...; value = ...; } )");
        return found;
    }
    std::set<std::string> names;
    for (int i = 0; i < setting.getLength(); ++i) {
        const Setting& entry = setting[i];
        if (!entry.isGroup()) {
            error(entry, "must be a group { name = ...; value = ...; }");
            continue;
        }
        only_keys(entry, {"name", "value"});
        const auto name = entry.exists("name") ? text(&entry["name"]) : std::nullopt;
        const auto value = entry.exists("value") ? text(&entry["value"]) : std::nullopt;
        if (!name || name->empty()) {
            error(entry, "needs a non-empty name");
            continue;
        }
        if (!names.insert(*name).second) {
            error(entry, "secret name '" + *name + "' appears twice");
        }
        if (!value || is_placeholder(*value)) {
            error(entry, "secret '" + *name + "': set a random value (openssl rand -hex 32)");
            continue;
        }
        if (const char* refusal = check_secret_value(*value)) {
            error(entry["value"], "secret '" + *name + "' " + refusal);
            continue;
        }
        found.push_back({*name, *value});
    }
    return found;
}

std::vector<auth::Session> SettingReader::sessions(const Setting& setting) {
    std::vector<auth::Session> found;
    if (!setting.isList()) {
        error(setting, "must be a list ( { id = ...; participants = [...]; } )");
        return found;
    }
    for (int i = 0; i < setting.getLength(); ++i) {
        if (auto read = session(setting[i])) {
            found.push_back(std::move(*read));
        }
    }
    return found;
}

std::optional<auth::Session> SettingReader::session(const Setting& entry) {
    if (!entry.isGroup()) {
        error(entry, "must be a group");
        return std::nullopt;
    }
    only_keys(entry, {"id", "state", "participants", "not_before", "not_after", "allocation_cap"});
    const auto field = [&entry](const char* key) {
        return entry.exists(key) ? &entry[key] : nullptr;
    };
    auth::Session seed;
    seed.id = text(field("id")).value_or("");
    if (seed.id.empty()) {
        error(entry, "needs a non-empty id");
        return std::nullopt;
    }
    if (const auto state = text(field("state"))) {
        if (*state == "scheduled") {
            seed.state = auth::SessionState::scheduled;
        } else if (*state == "active") {
            seed.state = auth::SessionState::active;
        } else if (*state == "ended") {
            seed.state = auth::SessionState::ended;
        } else {
            error(entry["state"], "must be scheduled, active or ended");
        }
    }
    if (const Setting* participants = field("participants")) {
        strings(*participants, [&](const Setting& item, const std::string& user) {
            if (user.empty()) {
                error(item, "participant must not be empty");
            } else {
                seed.participants.push_back(user);
            }
        });
    }
    seed.not_before_unix = number(field("not_before"), 0, 1LL << 40).value_or(0);
    seed.not_after_unix = number(field("not_after"), 0, 1LL << 40).value_or(0);
    seed.allocation_cap =
        static_cast<std::uint32_t>(number(field("allocation_cap"), 1, 10000).value_or(4));
    return seed;
}

// RFC 6066 §3: a HostName is ASCII, compared without regard to case; matched whole.
std::vector<MuxUpstream> SettingReader::upstreams(const Setting& setting) {
    std::vector<MuxUpstream> found;
    if (!setting.isList()) {
        error(setting,
              "must be a list ( { sni = \"app.example.org\"; address = \"127.0.0.1:8443\"; } )");
        return found;
    }
    std::set<std::string> names;
    for (int i = 0; i < setting.getLength(); ++i) {
        const Setting& entry = setting[i];
        if (!entry.isGroup()) {
            error(entry, "must be a group { sni = ...; address = ...; }");
            continue;
        }
        only_keys(entry, {"sni", "address"});
        auto sni = entry.exists("sni") ? text(&entry["sni"]) : std::nullopt;
        const auto address = entry.exists("address") ? text(&entry["address"]) : std::nullopt;
        if (!sni || sni->empty() ||
            sni->find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                std::string::npos) {
            error(entry, "needs sni, a host name such as app.example.org");
            continue;
        }
        std::transform(sni->begin(), sni->end(), sni->begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!names.insert(*sni).second) {
            error(entry, "sni '" + *sni + "' appears twice");
        }
        const auto parsed = address ? TransportAddress::parse(*address) : std::nullopt;
        if (!parsed || parsed->port == 0) {
            error(entry, "upstream '" + *sni + "' needs an address:port (e.g. 127.0.0.1:8443)");
            continue;
        }
        found.push_back({*sni, *parsed});
    }
    return found;
}

}  // namespace hearth::config
