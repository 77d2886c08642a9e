#pragma once

// What a reload does with a newly read file, key by key from the sections' keys(): which
// keys changed and take effect now, which changed but wait for a restart, and the
// configuration to run with meanwhile (the new file, with every restart key kept at its
// running value). Nothing else decides what a reload applies.

#include <string>
#include <vector>

#include "relay/config/config.h"

namespace hearth::config {

struct ReloadPlan {
    Config effective;
    std::vector<std::string> applied;        // "limits.max_allocations", ...
    std::vector<std::string> needs_restart;  // "listen.udp", ...
};

ReloadPlan plan_reload(const Config& running, const Config& loaded);

}  // namespace hearth::config
