#pragma once

// hearth-load --bounce: the traffic turned around in the kernel (load_bounce.h) instead of
// paced by hearth-load. Each client starts --in-flight packets; they go round the relay
// for --duration while hearth-load sleeps, and the machine's CPU is measured over that
// window alone.

#include <string>
#include <vector>

#include "bench/load/load_options.h"
#include "bench/load/load_traffic.h"
#include "bench/load/turn_setup.h"

namespace hearth::load {

// `echo`: where the clients' packets go through the relay (null: client to client, or
// --raw to a reflector). Empty `error` unless the program could not be attached.
TrafficResult run_bounced_traffic(const LoadOptions& options, std::vector<LoadClient>& clients,
                                  const EchoPeer* echo, std::string& error);

}  // namespace hearth::load
