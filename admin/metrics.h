#pragma once

// Prometheus text exposition (format 0.0.4) of the workers' snapshots and the node's own
// figures, rendered from the counter tables: a pure function, so what /metrics says can
// be tested without a server.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin/process_figures.h"
#include "auth/redis_connection.h"
#include "relay/net/snapshot.h"
#include "relay/turn/counter_table.h"

namespace hearth::admin {

// What the node knows of itself, outside the workers' counters, with its table.
struct NodeFigures {
    std::uint64_t start_time_unix = 0;
    std::uint64_t allocations_active = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t connections_refused_total = 0;
    std::uint64_t connections_refused_per_source = 0;
    std::uint64_t connections_unauthenticated = 0;          // open, no allocation yet
    std::uint64_t connections_refused_unauthenticated = 0;  // their share full, none to replace
    std::uint64_t sessions_active = 0;
    std::uint64_t session_store_up = 1;  // the embedded store always is; Redis may not be
    std::uint64_t session_store_outages = 0;
    std::uint64_t session_store_timeouts = 0;
    std::uint64_t udp_socket_drops = 0;           // the kernel's, on the open UDP sockets
    std::uint64_t admin_connections_refused = 0;  // past admin.max_connections
    std::uint64_t admin_requests_cut = 0;         // at admin.request_deadline
    std::uint64_t audit_events = 0;               // lines the audit trail was handed
    std::uint64_t audit_dropped_file = 0;         // of them, never written to its file
    std::uint64_t audit_dropped_redis = 0;        // never added to hearth:audit
    std::uint64_t record_updates_lost = 0;        // session record changes Redis did not take
    std::uint64_t draining = 0;                   // 1 while draining
    std::uint64_t allocations_limit = 0;          // what the node admits at most
    std::uint64_t connections_limit = 0;          // limits.max_connections
    std::uint64_t reloads_ok = 0;
    std::uint64_t reloads_failed = 0;
    std::uint64_t last_reload_unix = 0;  // 0: none since the start
    std::uint64_t last_reload_ok = 1;
    std::uint64_t store_timeouts = 0;       // session_store_timeouts, again, as a kind of error
    std::uint64_t store_error_replies = 0;  // Redis answered with an error
    std::uint64_t store_unanswered = 0;     // no answer: not connected, or lost while waiting
    bool per_allocation_series = false;
    // Outside the table: values that are not counts, and families with their own labels.
    std::optional<ProcessFigures> process;
    std::vector<std::pair<std::string, std::int64_t>> certificate_not_after;  // file, Unix s
    std::optional<auth::RedisConnection::RoundTrips> store_round_trips;       // with Redis
};

namespace node_figure_detail {
using Row = CounterRow<NodeFigures>;
using N = NodeFigures;
constexpr auto gauge = CounterKind::gauge;
constexpr std::string_view refused_help = "TCP and TLS connections refused, by the bound reached.";
constexpr std::string_view reloads_help =
    "Reloads (SIGHUP, hearthctl reload) by result: failed when the file was refused whole or "
    "a part of it (the TLS certificate) was.";
constexpr std::string_view store_errors_help =
    "Session store (Redis) commands that failed, by kind: timeout (no answer within the "
    "command timeout), error_reply (Redis answered an error), unanswered (not connected, or "
    "the connection lost while the command waited).";
constexpr std::string_view audit_dropped_help =
    "Audit events a sink could not keep up with (queue full, Redis slow or down), by sink.";
}  // namespace node_figure_detail

inline constexpr std::array node_figure_rows = [] {
    using namespace node_figure_detail;
    return std::array{
        Row{"", "hearth_start_time_seconds", "", gauge, "Unix time hearthd started.",
            &N::start_time_unix},
        Row{"allocations", "hearth_allocations_active", "", gauge, "Allocations alive now.",
            &N::allocations_active},
        Row{"connections", "hearth_connections_open", "", gauge,
            "TCP and TLS client connections open.", &N::connections_open},
        Row{"connections_refused.total", "hearth_connections_refused_total", R"(limit="total")",
            CounterKind::counter, refused_help, &N::connections_refused_total},
        Row{"connections_refused.per_source", "hearth_connections_refused_total",
            R"(limit="per_source")", CounterKind::counter, refused_help,
            &N::connections_refused_per_source},
        Row{"connections_refused.unauthenticated", "hearth_connections_refused_total",
            R"(limit="unauthenticated")", CounterKind::counter, refused_help,
            &N::connections_refused_unauthenticated},
        Row{"connections_unauthenticated", "hearth_connections_unauthenticated", "", gauge,
            "TCP and TLS client connections open that have made no allocation yet.",
            &N::connections_unauthenticated},
        Row{"sessions_active", "hearth_sessions_active", "", gauge, "Sessions in the active state.",
            &N::sessions_active},
        Row{"", "hearth_session_store_up", "", gauge, "1 while the session store answers.",
            &N::session_store_up},
        Row{"session_store_outages", "hearth_session_store_outages_total", "", CounterKind::counter,
            "Times the session store (Redis) was lost: closed, refused, or silent past the "
            "command timeout.",
            &N::session_store_outages},
        Row{"session_store_timeouts", "hearth_session_store_timeouts_total", "",
            CounterKind::counter,
            "Commands the session store left unanswered past the command timeout.",
            &N::session_store_timeouts},
        Row{"udp_socket_drops", "hearth_udp_socket_drops_total", "", CounterKind::counter,
            "Datagrams the kernel dropped on hearthd's UDP sockets (receive buffer full), from "
            "/proc/net/udp; a closed socket's drops stay counted.",
            &N::udp_socket_drops},
        Row{"admin.connections_refused", "hearth_admin_connections_refused_total", "",
            CounterKind::counter,
            "Admin API connections cut as they opened, past admin.max_connections.",
            &N::admin_connections_refused},
        Row{"admin.requests_cut", "hearth_admin_requests_cut_total", "", CounterKind::counter,
            "Admin API connections cut at admin.request_deadline, whatever bytes still came.",
            &N::admin_requests_cut},
        Row{"audit.events", "hearth_audit_events_total", "", CounterKind::counter,
            "Audit events recorded (README \"Audit trail\").", &N::audit_events},
        Row{"audit.dropped.file", "hearth_audit_events_dropped_total", R"(sink="file")",
            CounterKind::counter, audit_dropped_help, &N::audit_dropped_file},
        Row{"audit.dropped.redis", "hearth_audit_events_dropped_total", R"(sink="redis")",
            CounterKind::counter, audit_dropped_help, &N::audit_dropped_redis},
        Row{"", "hearth_draining", "", gauge,
            "1 while the node drains (new allocations go elsewhere).", &N::draining},
        Row{"", "hearth_allocations_limit", "", gauge,
            "Allocations the node admits at most: limits.max_allocations, lowered to what the "
            "file descriptor limit allows (compare hearth_allocations_active).",
            &N::allocations_limit},
        Row{"", "hearth_connections_limit", "", gauge,
            "TCP and TLS client connections the node accepts at most: limits.max_connections "
            "(compare hearth_connections_open).",
            &N::connections_limit},
        Row{"", "hearth_reloads_total", R"(result="ok")", CounterKind::counter, reloads_help,
            &N::reloads_ok},
        Row{"", "hearth_reloads_total", R"(result="failed")", CounterKind::counter, reloads_help,
            &N::reloads_failed},
        Row{"", "hearth_last_reload_timestamp_seconds", "", gauge,
            "Unix time the last reload ended; 0 when none has since the start.",
            &N::last_reload_unix},
        Row{"", "hearth_last_reload_success", "", gauge,
            "1 when the last reload (or none yet) succeeded, 0 when it failed.",
            &N::last_reload_ok},
        Row{"", "hearth_session_store_errors_total", R"(kind="timeout")", CounterKind::counter,
            store_errors_help, &N::store_timeouts},
        Row{"", "hearth_session_store_errors_total", R"(kind="error_reply")", CounterKind::counter,
            store_errors_help, &N::store_error_replies},
        Row{"", "hearth_session_store_errors_total", R"(kind="unanswered")", CounterKind::counter,
            store_errors_help, &N::store_unanswered},
        Row{"session_record_updates_lost", "hearth_session_record_updates_lost_total", "",
            CounterKind::counter,
            "Changes to a session record that Redis did not take (down, closing, an error); "
            "never retried (README \"Session record\").",
            &N::record_updates_lost},
    };
}();

std::string render_metrics(const std::vector<relay::WorkerSnapshot>& workers,
                           const NodeFigures& node);

}  // namespace hearth::admin
