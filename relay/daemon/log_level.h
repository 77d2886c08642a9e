#pragma once

// The log level of hearthd's logger, from the config's name for it (start and reload).

#include "relay/config/config.h"

namespace hearth::relay {

void apply_log_level(config::LogLevel level);

}  // namespace hearth::relay
