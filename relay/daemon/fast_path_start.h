#pragma once

// Loads and attaches the kernel fast path (relay/xdp) as fast_path in hearth.conf asks.
// The fast path is an optimisation, never a condition: when the program cannot load or
// attach (no CAP_BPF, an old kernel, a driver without XDP), hearthd says so once and
// relays in userspace exactly as without it.

#include <memory>

#include "relay/config/config.h"
#include "relay/xdp/fast_path_program.h"

namespace hearth::relay {

// Null when fast_path.interfaces is empty or the program could not be set up (logged).
std::unique_ptr<xdp::FastPathProgram> start_fast_path(const config::Config& config,
                                                      unsigned workers);

}  // namespace hearth::relay
