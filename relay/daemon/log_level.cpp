#include "relay/daemon/log_level.h"

#include <spdlog/spdlog.h>

namespace hearth::relay {

void apply_log_level(config::LogLevel level) {
    switch (level) {
        case config::LogLevel::trace:
            spdlog::set_level(spdlog::level::trace);
            return;
        case config::LogLevel::debug:
            spdlog::set_level(spdlog::level::debug);
            return;
        case config::LogLevel::info:
            spdlog::set_level(spdlog::level::info);
            return;
        case config::LogLevel::warn:
            spdlog::set_level(spdlog::level::warn);
            return;
        case config::LogLevel::error:
            spdlog::set_level(spdlog::level::err);
            return;
    }
}

}  // namespace hearth::relay
