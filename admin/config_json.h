#pragma once

// The configuration in effect as JSON, in the sections of etc/hearth.conf, from the
// sections' keys(): what `GET /v1/config` and `hearthctl config` show. Secret values
// (auth.secrets, admin.token, the Redis password) are never written, only whether set.

#include <string>

#include "relay/config/config.h"

namespace hearth::admin {

std::string config_as_json(const config::Config& config);

}  // namespace hearth::admin
