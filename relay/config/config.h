#pragma once

// hearthd's configuration: every key of etc/hearth.conf, with its default. Loaded once at
// start-up (and on reload); the data plane only ever sees a copy owned by its worker.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/secret_ring.h"
#include "auth/session_store.h"
#include "relay/stun/address_range.h"
#include "relay/stun/transport_address.h"

namespace hearth::config {

enum class LogLevel { trace, debug, info, warn, error };

struct Config {
    LogLevel log_level = LogLevel::info;
    unsigned workers = 0;      // 0: one per core
    bool pin_workers = false;  // worker i runs on CPU i (mod the CPUs this process may use)
    std::string realm = "hearth";
    std::string public_host;  // the name clients reach this node by (turns: URLs); "" = relay ipv4
    std::string software = "hearth";

    std::vector<TransportAddress> listen_udp;  // default 0.0.0.0:3478
    std::vector<TransportAddress> listen_tcp;  // default 0.0.0.0:3478
    std::vector<TransportAddress> listen_tls;  // default none; e.g. 0.0.0.0:5349 or :443
    std::string tls_certificate;               // PEM chain, leaf first
    std::string tls_private_key;               // PEM

    std::optional<IpAddress> relay_ipv4;  // bound and advertised for IPv4 relays; none: 440
    std::optional<IpAddress> relay_ipv6;
    std::uint16_t relay_port_min = 49152;
    std::uint16_t relay_port_max = 65535;

    std::chrono::seconds allocation_lifetime_default{600};  // RFC 8656 §3.2
    std::chrono::seconds allocation_lifetime_max{3600};
    std::chrono::seconds nonce_lifetime{600};
    std::uint32_t max_allocations = 10000;
    std::uint32_t max_allocations_per_user = 8;
    std::uint32_t max_permissions_per_allocation = 32;
    std::uint32_t max_channels_per_allocation = 32;
    std::uint32_t unauthenticated_requests_per_second = 20;  // per source address
    std::uint32_t allocate_requests_per_second = 20;         // authenticated, per source
    // Refresh, CreatePermission, ChannelBind and Connect, authenticated, per source.
    std::uint32_t upkeep_requests_per_second = 200;
    std::uint32_t auth_failures_before_ban = 10;  // within auth_failure_window; 0 = no bans
    std::chrono::seconds auth_failure_window{60};
    std::chrono::seconds auth_ban{300};
    // Relayed bandwidth per direction, bits a second (token buckets; 0 = no limit): each
    // allocation's own, and each session's, shared by its allocations on this node.
    std::uint64_t allocation_bandwidth_bps = 10'000'000;
    std::uint64_t session_bandwidth_bps = 30'000'000;

    // Bounds on TCP and TLS client connections (and RFC 6062 peer connections).
    std::uint32_t stream_output_buffer_bytes = 256 * 1024;  // per connection; past it, drops
    std::chrono::seconds stream_idle_timeout{660};          // no byte read for this long: closed
    std::chrono::seconds tls_handshake_timeout{10};
    std::uint32_t max_connections = 10000;          // per node
    std::uint32_t max_connections_per_source = 64;  // per client IP address

    std::vector<auth::NamedSecret> secrets;  // newest last

    std::string session_store = "embedded";  // embedded | redis
    std::string redis_host = "127.0.0.1";
    std::uint16_t redis_port = 6379;
    std::string redis_password;
    std::chrono::seconds redis_grace{60};  // a session seen active this recently survives an outage
    std::string node_id;                   // this node's name in Redis; default hostname:pid
    std::chrono::seconds metrics_interval{5};  // call quality written to Redis; 0 = never
    std::vector<auth::Session> sessions;       // embedded store contents

    std::vector<AddressRange> peer_allow;  // ranges exempt from the peer policy

    // Drain: where new allocations go (RFC 8489 §10) and how long a drain may last.
    std::optional<TransportAddress> alternate_server;  // none: a node found in Redis, else 508
    std::string alternate_domain;                      // ALTERNATE-DOMAIN for TLS clients
    std::chrono::seconds drain_deadline{3600};         // hearthctl drain
    std::chrono::seconds sigterm_drain_deadline{30};   // SIGTERM (systemctl stop)

    // The admin API (loopback by default, bearer token required).
    std::optional<TransportAddress> admin_listen =
        TransportAddress{IpAddress::v4(0x7F000001), 9478};
    std::string admin_token;              // empty: a random one is written to admin_token_file
    std::string admin_token_file;         // where the token is written (mode 0600) when generated
    bool metrics_per_allocation = false;  // per-allocation Prometheus series
};

struct ConfigError {
    std::string file;
    int line = 0;  // 0 when the error is not tied to a line
    std::string message;
    std::string to_string() const;  // "FILE:LINE: MESSAGE"
};

struct LoadResult {
    std::optional<Config> config;     // set only when errors is empty
    std::vector<ConfigError> errors;  // every error found, not just the first
};

// Reads and validates a libconfig file. Never throws; every problem is an error with a line.
LoadResult load_config_file(const std::string& path);
LoadResult load_config_text(const std::string& text, const std::string& name_for_errors);

}  // namespace hearth::config
