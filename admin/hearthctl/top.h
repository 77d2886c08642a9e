#pragma once

// `hearthctl top`: the node's allocations, busiest first, redrawn every 2 s.

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

int run_top(const Options& options);

}  // namespace hearth::hearthctl
