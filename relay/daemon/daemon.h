#pragma once

// hearthd's life: start-up on a configuration, the main loop, and shutdown.

#include <functional>
#include <string>

#include "relay/config/config.h"
#include "relay/daemon/daemon_control.h"

namespace hearth::relay {

// Starts the workers on `config` (read from `config_path`, "" for the demo), calls
// `on_ready` once every listener is bound (false from it stops hearthd), and runs until
// SIGINT, SIGTERM's drain or a drain ends. Returns the exit code.
int run_daemon(const config::Config& config, const std::string& config_path,
               const std::function<bool(DaemonControl&)>& on_ready);

}  // namespace hearth::relay
