#pragma once

// hearthd's configuration: the sections of etc/hearth.conf, every key with its default.
// Each section describes its keys once, in keys(): the name in the file, how a reload
// treats it, and what values it takes. The loader reads a file from those descriptions,
// reload compares a new file with the running one key by key from them, and the
// effective configuration is printed from them: no other list of keys is kept.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/secret_ring.h"
#include "auth/session_store.h"
#include "relay/stun/address_range.h"
#include "relay/stun/transport_address.h"

namespace hearth::config {

enum class LogLevel { trace, debug, info, warn, error };
const char* to_string(LogLevel level);

enum class StoreKind { embedded, redis };
const char* to_string(StoreKind kind);

// How the XDP fast path attaches: in the driver (veth and most server NICs), or in the
// kernel's generic hook (any interface, lo too; slower, for tests and odd drivers).
enum class FastPathMode { native, generic };
const char* to_string(FastPathMode mode);

// What a reload does with a changed key: apply it to what runs, or name it and keep the
// running value until the next start (new sockets, threads or connections).
enum class Reload : std::uint8_t { live, restart };

// A visitor's calls, each with the running value(s) last: `values` is one section for
// the loader and the printer, two (running, new) for the reload's comparison.
//   number(name, reload, min, max, values...)      integers of any width
//   seconds(name, reload, min, max, values...)     std::chrono::seconds
//   flag(name, reload, values...)                  bool
//   text(name, reload, check, values...)           std::string; `check` may refuse it
//   secret(name, reload, check, values...)         std::string never printed
//   choice(name, reload, values...)                LogLevel, StoreKind or FastPathMode
//   names(name, reload, values...)                 std::vector<std::string>, interface names
//   addresses(name, reload, values...)             std::vector<TransportAddress>
//   address(name, reload, values...)               std::optional<TransportAddress>, "" = none
//   relay_ip(name, reload, family, values...)      std::optional<IpAddress> of `family`
//   ranges(name, reload, values...)                std::vector<AddressRange>
//   ports(name, reload, values...)                 std::vector<std::uint16_t>, each 1..65535
//   secrets(name, reload, values...)               std::vector<auth::NamedSecret>
//   sessions(name, reload, values...)              std::vector<auth::Session>
//   upstreams(name, reload, values...)             std::vector<MuxUpstream>
//   group(name, values...)                         a nested section

// A text key's check: the error message for a value it refuses, or nullptr.
using TextCheck = const char* (*)(const std::string& value);

struct ListenSection {
    std::vector<TransportAddress> udp{{IpAddress::v4(0), 3478}};
    std::vector<TransportAddress> tcp{{IpAddress::v4(0), 3478}};
    std::vector<TransportAddress> tls;  // e.g. 0.0.0.0:5349 or :443
    // TURN over TCP, TURN over TLS and TLS for the services of `mux.upstreams` on one port,
    // told apart by their first bytes: e.g. 0.0.0.0:443.
    std::vector<TransportAddress> mux;
    // Load balancers whose TCP and TLS connections start with a PROXY header (v1 or v2)
    // naming the client; from them the header is required, from anyone else never read.
    std::vector<AddressRange> proxy_protocol_from;
    bool operator==(const ListenSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.addresses("udp", Reload::restart, s.udp...);
        visit.addresses("tcp", Reload::restart, s.tcp...);
        visit.addresses("tls", Reload::restart, s.tls...);
        visit.addresses("mux", Reload::restart, s.mux...);
        // New connections take it; those already open keep the client they started with.
        visit.ranges("proxy_protocol_from", Reload::live, s.proxy_protocol_from...);
    }
};

// A service sharing the multiplexing listeners: TLS connections whose ClientHello names
// `sni` are passed to `address` unterminated.
struct MuxUpstream {
    std::string sni;  // a host name, lower-case
    TransportAddress address;
    bool operator==(const MuxUpstream&) const = default;
};

struct MuxSection {
    std::vector<MuxUpstream> upstreams;
    // Connections passed to upstreams at once, per node: each holds two descriptors.
    std::uint32_t max_upstream_connections = 4096;
    bool operator==(const MuxSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        // New connections take them; those passed on already stay with their upstream.
        visit.upstreams("upstreams", Reload::live, s.upstreams...);
        visit.number("max_upstream_connections", Reload::live, 0, 1000000,
                     s.max_upstream_connections...);
    }
};

struct TlsSection {
    std::string certificate;  // PEM chain, leaf first
    std::string private_key;  // PEM
    bool operator==(const TlsSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.text("certificate", Reload::live, nullptr, s.certificate...);
        visit.text("private_key", Reload::live, nullptr, s.private_key...);
    }
};

struct RelaySection {
    std::optional<IpAddress> ipv4;  // bound and advertised for IPv4 relays; none: 440
    std::optional<IpAddress> ipv6;
    // Behind a 1:1 NAT: the public address clients are given (XOR-RELAYED-ADDRESS, turn:
    // URLs, the node registry) while ipv4/ipv6, the private one, is bound. none: ipv4/ipv6.
    std::optional<IpAddress> external_ipv4;
    std::optional<IpAddress> external_ipv6;
    std::uint16_t port_min = 49152;
    std::uint16_t port_max = 65535;
    // RFC 6062 TCP relays: off, a TCP REQUESTED-TRANSPORT gets 442. Browsers never ask for
    // one, and each is a TCP proxy from the relay's address.
    bool tcp_allocations = false;
    // Ports no RFC 6062 Connect may reach, on any address (the admin API's port is added):
    // mail submission and relay, so the relay's address is not a spammer's.
    std::vector<std::uint16_t> tcp_denied_ports{25, 465, 587};
    bool operator==(const RelaySection&) const = default;
    // The IPv4 address clients reach the relay at: external_ipv4, else ipv4.
    std::optional<IpAddress> advertised_ipv4() const {
        return external_ipv4 ? external_ipv4 : ipv4;
    }

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.relay_ip("ipv4", Reload::restart, AddressFamily::ipv4, s.ipv4...);
        visit.relay_ip("ipv6", Reload::restart, AddressFamily::ipv6, s.ipv6...);
        visit.relay_ip("external_ipv4", Reload::restart, AddressFamily::ipv4, s.external_ipv4...);
        visit.relay_ip("external_ipv6", Reload::restart, AddressFamily::ipv6, s.external_ipv6...);
        visit.number("port_min", Reload::restart, 1024, 65535, s.port_min...);
        visit.number("port_max", Reload::restart, 1024, 65535, s.port_max...);
        // New allocations and Connects take these; TCP allocations already made keep going.
        visit.flag("tcp_allocations", Reload::live, s.tcp_allocations...);
        visit.ports("tcp_denied_ports", Reload::live, s.tcp_denied_ports...);
    }
};

struct LimitsSection {
    std::chrono::seconds allocation_lifetime_default{600};  // RFC 8656 §3.2
    std::chrono::seconds allocation_lifetime_max{3600};
    std::chrono::seconds nonce_lifetime{600};
    std::uint32_t max_allocations = 10000;
    std::uint32_t max_allocations_per_user = 8;
    // Past that cap, or the session's allocation_cap, the user's oldest allocation (of the
    // session) that relayed nothing for this long is replaced by the new one (a rejoin
    // after a crash); 0 = never, the Allocate gets 486.
    std::chrono::seconds rejoin_idle_seconds{15};
    std::uint32_t max_permissions_per_allocation = 32;
    std::uint32_t max_channels_per_allocation = 32;
    std::uint32_t unauthenticated_requests_per_second = 20;  // per source address
    std::uint32_t allocate_requests_per_second = 20;         // authenticated, per source
    // Refresh, CreatePermission, ChannelBind and Connect, authenticated, per source.
    std::uint32_t upkeep_requests_per_second = 200;
    // Within auth_failure_window: failures of one username from one source before it is
    // banned from there, and failures from one source, any usernames, before the source is
    // throttled (relay/turn/source_ban_list.h). 0 = never.
    std::uint32_t auth_failures_before_ban = 10;
    std::uint32_t auth_failures_before_throttle = 30;
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
    // Connections that have made no allocation (or RFC 6062 data connections not yet bound):
    // closed this long after they open, whatever they send; and the share of the two bounds
    // above they may hold, the rest kept for connections with an allocation.
    std::chrono::seconds unauthenticated_connection_timeout{30};
    std::uint32_t unauthenticated_connections_percent = 50;
    bool operator==(const LimitsSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        const auto live = Reload::live;
        visit.seconds("allocation_lifetime_default", live, 1, 86400,
                      s.allocation_lifetime_default...);
        visit.seconds("allocation_lifetime_max", live, 1, 86400, s.allocation_lifetime_max...);
        visit.seconds("nonce_lifetime", live, 1, 86400, s.nonce_lifetime...);
        visit.number("max_allocations", live, 1, 10'000'000, s.max_allocations...);
        visit.number("max_allocations_per_user", live, 1, 100'000, s.max_allocations_per_user...);
        visit.seconds("rejoin_idle_seconds", live, 0, 86400, s.rejoin_idle_seconds...);
        visit.number("max_permissions_per_allocation", live, 1, 1024,
                     s.max_permissions_per_allocation...);
        visit.number("max_channels_per_allocation", live, 1, 4096,
                     s.max_channels_per_allocation...);
        visit.number("unauthenticated_requests_per_second", live, 0, 1'000'000,
                     s.unauthenticated_requests_per_second...);
        visit.number("allocate_requests_per_second", live, 0, 1'000'000,
                     s.allocate_requests_per_second...);
        visit.number("upkeep_requests_per_second", live, 0, 1'000'000,
                     s.upkeep_requests_per_second...);
        visit.number("auth_failures_before_ban", live, 0, 1'000'000, s.auth_failures_before_ban...);
        visit.number("auth_failures_before_throttle", live, 0, 1'000'000,
                     s.auth_failures_before_throttle...);
        visit.seconds("auth_failure_window", live, 1, 86400, s.auth_failure_window...);
        visit.seconds("auth_ban", live, 1, 86400, s.auth_ban...);
        visit.number("allocation_bandwidth_bps", live, 0, 100'000'000'000LL,
                     s.allocation_bandwidth_bps...);
        visit.number("session_bandwidth_bps", live, 0, 100'000'000'000LL,
                     s.session_bandwidth_bps...);
        // New connections take these; connections already open keep theirs.
        visit.number("stream_output_buffer_bytes", live, 4096, 64 * 1024 * 1024,
                     s.stream_output_buffer_bytes...);
        visit.seconds("stream_idle_timeout", live, 1, 86400, s.stream_idle_timeout...);
        visit.seconds("tls_handshake_timeout", live, 1, 86400, s.tls_handshake_timeout...);
        visit.number("max_connections", live, 1, 1'000'000, s.max_connections...);
        visit.number("max_connections_per_source", live, 1, 100'000,
                     s.max_connections_per_source...);
        visit.seconds("unauthenticated_connection_timeout", live, 1, 86400,
                      s.unauthenticated_connection_timeout...);
        visit.number("unauthenticated_connections_percent", live, 1, 100,
                     s.unauthenticated_connections_percent...);
    }
};

// At least 16 characters, and not the shipped placeholder.
const char* check_secret_value(const std::string& value);

struct AuthSection {
    std::vector<auth::NamedSecret> secrets;  // newest last; at least one
    bool operator==(const AuthSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.secrets("secrets", Reload::live, s.secrets...);
    }
};

struct RedisSection {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string password;
    std::chrono::seconds grace{60};  // a session seen active this recently survives an outage
    std::string node_id;             // this node's name in Redis; default hostname:pid
    std::chrono::seconds metrics_interval{5};  // call quality written to Redis; 0 = never
    // Redis Sentinel: where to ask for the master named master_name (none: host is it).
    std::vector<TransportAddress> sentinels;
    std::string master_name = "hearth";
    // A command unanswered this long is an outage (a hung or unreachable Redis).
    std::uint32_t command_timeout_ms = 2000;
    bool operator==(const RedisSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.text("host", Reload::restart, nullptr, s.host...);
        visit.number("port", Reload::restart, 1, 65535, s.port...);
        visit.secret("password", Reload::restart, nullptr, s.password...);
        visit.seconds("grace", Reload::restart, 0, 86400, s.grace...);
        visit.text("node_id", Reload::restart, nullptr, s.node_id...);
        visit.seconds("metrics_interval", Reload::restart, 0, 3600, s.metrics_interval...);
        visit.addresses("sentinels", Reload::restart, s.sentinels...);
        visit.text("master_name", Reload::restart, nullptr, s.master_name...);
        visit.number("command_timeout_ms", Reload::restart, 50, 60000, s.command_timeout_ms...);
    }
};

struct SessionStoreSection {
    StoreKind kind = StoreKind::embedded;
    RedisSection redis;
    std::vector<auth::Session> sessions;  // the embedded store's contents
    bool operator==(const SessionStoreSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.choice("kind", Reload::restart, s.kind...);
        visit.group("redis", s.redis...);
        visit.sessions("sessions", Reload::live, s.sessions...);
    }
};

struct PeerPolicySection {
    std::vector<AddressRange> allow;  // ranges exempt from the peer policy
    bool operator==(const PeerPolicySection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.ranges("allow", Reload::live, s.allow...);
    }
};

// The kernel fast path (relay/xdp): UDP ChannelData on bound channels relayed by an XDP
// program on these interfaces; everything else, and every decision, stays in userspace.
// Off (no interfaces) by default. "auto": the interfaces that carry the relay addresses.
struct FastPathSection {
    std::vector<std::string> interfaces;
    FastPathMode mode = FastPathMode::native;
    bool operator==(const FastPathSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.names("interfaces", Reload::restart, s.interfaces...);
        visit.choice("mode", Reload::restart, s.mode...);
    }
};

// Drain: where new allocations go (RFC 8489 §10) and how long a drain may last.
struct DrainSection {
    std::optional<TransportAddress> alternate_server;  // none: a node found in Redis, else 508
    std::string alternate_domain;                      // ALTERNATE-DOMAIN for TLS clients
    std::chrono::seconds deadline{3600};               // hearthctl drain
    std::chrono::seconds sigterm_deadline{30};         // SIGTERM (systemctl stop)
    bool operator==(const DrainSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.address("alternate_server", Reload::live, s.alternate_server...);
        visit.text("alternate_domain", Reload::live, nullptr, s.alternate_domain...);
        visit.seconds("deadline", Reload::live, 1, 7 * 86400, s.deadline...);
        visit.seconds("sigterm_deadline", Reload::live, 0, 86400, s.sigterm_deadline...);
    }
};

// At least 16 characters, or "" for one generated at start.
const char* check_admin_token(const std::string& value);
// At least 16 characters, or "" for none.
const char* check_read_only_token(const std::string& value);

// The admin API (loopback by default, bearer token required).
struct AdminSection {
    std::optional<TransportAddress> listen = TransportAddress{IpAddress::v4(0x7F000001), 9478};
    std::string token;            // empty: a random one is written to token_file
    std::string token_file;       // where the token is written (mode 0600) when generated
    std::string read_only_token;  // may call what only reads (metrics, health); "" = none
    bool per_allocation_metrics = false;
    std::uint32_t max_connections = 64;         // open at once; past it, cut at once
    std::chrono::seconds request_deadline{10};  // from a connection's opening to its answer
    bool operator==(const AdminSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        visit.address("listen", Reload::restart, s.listen...);
        visit.secret("token", Reload::live, &check_admin_token, s.token...);
        visit.text("token_file", Reload::live, nullptr, s.token_file...);
        visit.secret("read_only_token", Reload::live, &check_read_only_token, s.read_only_token...);
        visit.flag("per_allocation_metrics", Reload::live, s.per_allocation_metrics...);
        // New connections take these; those open keep theirs.
        visit.number("max_connections", Reload::live, 1, 10'000, s.max_connections...);
        visit.seconds("request_deadline", Reload::live, 1, 3600, s.request_deadline...);
    }
};

// The audit trail (README "Audit trail"): a JSON line per allocation event, to a rotated
// file of its own and, with the Redis store, to the streams hearth:audit and
// hearth:session:{id}:audit. Built at start: every key needs a restart.
struct AuditSection {
    std::string path;  // "" = no file (the shipped hearth.conf names /var/log/hearth/audit.log)
    std::uint64_t max_file_size = 100ull * 1024 * 1024;  // bytes; then the file is rotated
    std::uint32_t max_files = 10;                        // rotated files kept
    std::uint64_t redis_stream_maxlen = 100000;          // XADD hearth:audit MAXLEN ~
    std::uint64_t session_stream_maxlen = 1000;          // XADD hearth:session:{id}:audit
    std::chrono::seconds session_stream_ttl{7 * 86400};  // EXPIRE of a session's stream
    // Lines on their way to Redis at once; past it they are counted as dropped.
    std::uint32_t redis_max_in_flight = 10000;
    bool operator==(const AuditSection&) const = default;

    template <typename Visitor, typename... Sections>
    static void keys(Visitor& visit, Sections&... s) {
        const auto restart = Reload::restart;
        visit.text("path", restart, nullptr, s.path...);
        visit.number("max_file_size", restart, 4096, 1LL << 40, s.max_file_size...);
        visit.number("max_files", restart, 0, 10'000, s.max_files...);
        visit.number("redis_stream_maxlen", restart, 1, 1'000'000'000, s.redis_stream_maxlen...);
        visit.number("session_stream_maxlen", restart, 1, 1'000'000'000,
                     s.session_stream_maxlen...);
        visit.seconds("session_stream_ttl", restart, 1, 365 * 86400, s.session_stream_ttl...);
        visit.number("redis_max_in_flight", restart, 1, 1'000'000, s.redis_max_in_flight...);
    }
};

// 1 to 64 characters (RFC 8489 allows 127): every 401 carries the realm, and
// turn::max_unauthenticated_answer grows with it; up to 8 characters keep the 401 to the
// smallest Allocate within three times its size.
const char* check_realm(const std::string& value);
// RFC 8489 §14.14: SOFTWARE is fewer than 128 characters.
const char* check_software(const std::string& value);

struct Config {
    // The top level of the file.
    LogLevel log_level = LogLevel::info;
    unsigned workers = 0;      // 0: one per core
    bool pin_workers = false;  // worker i runs on CPU i (mod the CPUs this process may use)
    std::string realm = "hearth";
    std::string software = "hearth";
    std::string public_host;  // the name clients reach this node by (turns: URLs); "" = relay ipv4

    ListenSection listen;
    MuxSection mux;
    TlsSection tls;
    RelaySection relay;
    LimitsSection limits;
    AuthSection auth;
    SessionStoreSection session_store;
    PeerPolicySection peer_policy;
    DrainSection drain;
    AdminSection admin;
    AuditSection audit;
    FastPathSection fast_path;
    bool operator==(const Config&) const = default;
    // Whether a listener terminates TLS: a TLS one, or a multiplexing one.
    bool serves_tls() const { return !listen.tls.empty() || !listen.mux.empty(); }

    template <typename Visitor, typename... Configs>
    static void keys(Visitor& visit, Configs&... c) {
        visit.choice("log_level", Reload::live, c.log_level...);
        visit.number("workers", Reload::restart, 0, 256, c.workers...);
        visit.flag("pin_workers", Reload::restart, c.pin_workers...);
        visit.text("realm", Reload::live, &check_realm, c.realm...);
        visit.text("software", Reload::live, &check_software, c.software...);
        visit.text("public_host", Reload::live, nullptr, c.public_host...);
        visit.group("listen", c.listen...);
        visit.group("mux", c.mux...);
        visit.group("tls", c.tls...);
        visit.group("relay", c.relay...);
        visit.group("limits", c.limits...);
        visit.group("auth", c.auth...);
        visit.group("session_store", c.session_store...);
        visit.group("peer_policy", c.peer_policy...);
        visit.group("drain", c.drain...);
        visit.group("admin", c.admin...);
        visit.group("audit", c.audit...);
        visit.group("fast_path", c.fast_path...);
    }
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
