#pragma once

// What a config needs from the host it runs on, beyond what the file itself says: the TLS
// certificate and key load and match, every listener's address belongs to this host and is
// free, every relay address belongs to this host. hearthd checks these before it starts
// anything, and `hearthd --check-config` runs the very same checks, so a config that
// passes the check (the unit's ExecStartPre) does not then fail at start.

#include <optional>
#include <string>
#include <vector>

#include "relay/config/config.h"
#include "relay/net/tls_context.h"

namespace hearth::relay {

// Every listener (listen.udp, listen.tcp, listen.tls, admin.listen) and relay address
// (relay.ipv4, relay.ipv6) that cannot be bound here, one line each naming its setting.
// Each is bound and closed at once.
std::vector<std::string> address_problems(const config::Config& config);

// The TLS context the TLS listeners serve, built as the daemon builds it: empty when there
// are no TLS listeners; nullopt, and `problem` set, when the certificate or key does not
// load or they do not match.
std::optional<SslContextPointer> load_tls_context(const config::Config& config,
                                                  std::string& problem);

// Both of the above: what `hearthd --check-config` reports after the file's own errors.
std::vector<std::string> host_problems(const config::Config& config);

}  // namespace hearth::relay
