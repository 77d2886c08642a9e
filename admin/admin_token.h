#pragma once

#include <string>

#include "relay/config/config.h"

namespace hearth::admin {

// The admin API's bearer token: the configured one, or a random one written to
// admin.token_file (mode 0600) so hearthctl on this host can read it. Empty on failure,
// with the reason in `error`.
std::string admin_token_for(const config::Config& config, std::string& error);

}  // namespace hearth::admin
