#pragma once

// Typed reads of single libconfig settings, each refusal an error with the setting's line
// and path: what config_loader.cpp's visitor uses for every kind of key.

#include <libconfig.h++>
#include <optional>
#include <string>
#include <vector>

#include "relay/config/config.h"

namespace hearth::config {

class SettingReader {
  public:
    SettingReader(std::string file, std::vector<ConfigError>& errors)
        : file_(std::move(file)), errors_(errors) {}

    void error(const libconfig::Setting& setting, const std::string& message);

    // Scalars: nullopt when the setting is absent (null) or refused.
    std::optional<long long> number(const libconfig::Setting* setting, long long min,
                                    long long max);
    std::optional<bool> boolean(const libconfig::Setting* setting);
    std::optional<std::string> text(const libconfig::Setting* setting);
    void choice(const libconfig::Setting& setting, LogLevel& value);
    void choice(const libconfig::Setting& setting, StoreKind& value);
    void choice(const libconfig::Setting& setting, FastPathMode& value);
    // Interface names: "lo", "eth0", "auto" (at most IFNAMSIZ - 1 characters each).
    std::vector<std::string> names(const libconfig::Setting& setting);

    std::vector<TransportAddress> addresses(const libconfig::Setting& setting);
    void optional_address(const libconfig::Setting& setting,
                          std::optional<TransportAddress>& value);
    void relay_ip(const libconfig::Setting& setting, AddressFamily family,
                  std::optional<IpAddress>& value);
    std::vector<AddressRange> ranges(const libconfig::Setting& setting);
    std::vector<std::uint16_t> ports(const libconfig::Setting& setting);
    std::vector<auth::NamedSecret> secrets(const libconfig::Setting& setting);
    std::vector<auth::Session> sessions(const libconfig::Setting& setting);
    std::vector<MuxUpstream> upstreams(const libconfig::Setting& setting);

  private:
    // An array (or list) of strings, each handed to `accept`, which reports its own errors.
    template <typename Accept>
    void strings(const libconfig::Setting& array, Accept accept);
    std::optional<auth::Session> session(const libconfig::Setting& entry);
    // Reports every child of a group whose name is not in `known`.
    void only_keys(const libconfig::Setting& group, std::initializer_list<const char*> known);

    std::string file_;
    std::vector<ConfigError>& errors_;
};

}  // namespace hearth::config
