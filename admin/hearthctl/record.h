#pragma once

// `hearthctl record [SESSION]`: a session's record (per participant and for the whole
// session), or without SESSION the sessions that ended within the last hour.

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

int run_record(const Options& options);

}  // namespace hearth::hearthctl
