// POST /v1/log-level?level=L: how much hearthd logs from now on, with the config's names
// for the levels (trace, debug, info, warn, error). Not written to the config file: the
// next reload or restart applies the file's log_level again.

#include "relay/daemon/log_level.h"

#include <spdlog/spdlog.h>

#include <array>
#include <optional>

#include "admin/routes/handlers.h"

namespace hearth::admin::routes {

namespace {

std::optional<config::LogLevel> level_named(const std::string& name) {
    for (const auto level :
         {config::LogLevel::trace, config::LogLevel::debug, config::LogLevel::info,
          config::LogLevel::warn, config::LogLevel::error}) {
        if (name == config::to_string(level)) {
            return level;
        }
    }
    return std::nullopt;
}

}  // namespace

void set_log_level(const RouteCall& call) {
    const std::string name = query_parameter(call.query, "level");
    const auto level = level_named(name);
    if (!level) {
        call.respond(error_reply(400, "level must be one of trace, debug, info, warn, error"));
        return;
    }
    relay::apply_log_level(*level);
    // At warn so that it shows at every level but error, whichever was set.
    spdlog::warn("log level set to {} through the admin API", name);
    call.respond(json_reply(200, {{"log_level", name}}));
}

}  // namespace hearth::admin::routes
