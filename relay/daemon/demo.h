#pragma once

#include <string>

#include "relay/config/config.h"

namespace hearth::relay {

// `hearthd --demo`: the embedded defaults `./run.sh` starts. UDP and TCP on
// 127.0.0.1:3478, a random secret, one demo session, and loopback peers allowed so a
// browser on this machine can relay to itself. Never for production.
config::Config demo_config(std::uint16_t port);

// The banner: what runs, the loopback warning, and RTCIceServer JSON per participant.
// `admin_token` is the admin API's bearer token, shown so the page and hearthctl work.
std::string demo_banner(const config::Config& config, std::int64_t now_unix,
                        const std::string& admin_token);

}  // namespace hearth::relay
