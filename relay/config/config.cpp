#include "relay/config/config.h"

namespace hearth::config {

const char* to_string(LogLevel level) {
    switch (level) {
        case LogLevel::trace:
            return "trace";
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warn:
            return "warn";
        case LogLevel::error:
            return "error";
    }
    return "?";
}

const char* to_string(StoreKind kind) {
    return kind == StoreKind::redis ? "redis" : "embedded";
}

const char* to_string(FastPathMode mode) {
    return mode == FastPathMode::generic ? "generic" : "native";
}

const char* check_secret_value(const std::string& value) {
    return value.size() < 16 ? "must be at least 16 characters" : nullptr;
}

const char* check_admin_token(const std::string& value) {
    return !value.empty() && value.size() < 16
               ? "must be at least 16 characters, or \"\" to generate one"
               : nullptr;
}

const char* check_read_only_token(const std::string& value) {
    return !value.empty() && value.size() < 16 ? "must be at least 16 characters, or \"\" for none"
                                               : nullptr;
}

const char* check_realm(const std::string& value) {
    return value.empty() || value.size() > 64 ? "must be 1 to 64 characters" : nullptr;
}

const char* check_software(const std::string& value) {
    return value.size() > 127 ? "must be at most 127 characters" : nullptr;
}

}  // namespace hearth::config
