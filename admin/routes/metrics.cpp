// GET /metrics: the Prometheus exposition, rendered by admin/metrics.cpp from the workers'
// snapshots and the node's own figures gathered here.

#include "admin/metrics.h"

#include "admin/routes/handlers.h"
#include "auth/redis_connection.h"
#include "auth/session_store.h"
#include "relay/daemon/daemon.h"
#include "relay/net/tls_context.h"
#include "relay/net/udp_socket_drops.h"

namespace hearth::admin::routes {

namespace {

NodeFigures node_figures(relay::DaemonControl& control, const AdminConnectionCounters& admin,
                         const std::vector<auth::Session>& sessions) {
    NodeFigures node;
    node.admin_connections_refused = admin.refused;
    node.admin_requests_cut = admin.cut;
    node.start_time_unix = static_cast<std::uint64_t>(control.started_unix());
    node.udp_socket_drops = relay::udp_socket_drops();
    node.connections_open = control.connections().open();
    node.connections_refused_total = control.connections().refused_total();
    node.connections_refused_per_source = control.connections().refused_per_source();
    node.connections_refused_unauthenticated = control.connections().refused_unauthenticated();
    node.connections_unauthenticated = control.connections().unauthenticated_open();
    node.per_allocation_series = control.config().admin.per_allocation_metrics;
    node.session_store_up = control.session_store_up() ? 1 : 0;
    node.session_store_outages = control.session_store_outages();
    node.session_store_timeouts = control.session_store_timeouts();
    node.record_updates_lost = control.session_record_updates_lost();
    const auto audit = control.audit_counts();
    node.audit_events = audit.events;
    node.audit_dropped_file = audit.file_dropped;
    node.audit_dropped_redis = audit.stream_dropped;
    node.draining = control.draining() ? 1 : 0;
    node.allocations_limit = control.allocation_capacity();
    node.connections_limit = control.config().limits.max_connections;
    const auto reloads = control.reload_counts();
    node.reloads_ok = reloads.ok;
    node.reloads_failed = reloads.failed;
    node.last_reload_unix = static_cast<std::uint64_t>(reloads.last_unix);
    node.last_reload_ok = reloads.last_ok ? 1 : 0;
    node.store_timeouts = node.session_store_timeouts;
    if (const auto* redis = control.redis_connection()) {
        node.store_error_replies = redis->error_replies();
        node.store_unanswered = redis->unanswered();
        node.store_round_trips = redis->round_trips();
    }
    node.process = read_process_figures();
    if (!control.config().listen.tls.empty() && !control.config().tls.certificate.empty()) {
        const auto& file = control.config().tls.certificate;
        if (const auto not_after = relay::certificate_not_after(file)) {
            node.certificate_not_after.emplace_back(file, *not_after);
        }
    }
    for (const auto& session : sessions) {
        node.sessions_active += session.state == auth::SessionState::active ? 1 : 0;
    }
    return node;
}

}  // namespace

void serve_metrics(const RouteCall& call) {
    auto& control = call.control;
    control.collect([&control, admin = call.connections,
                     respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
        control.list_sessions([&control, admin, respond,
                               workers = std::move(workers)](std::vector<auth::Session> sessions) {
            respond({200, "text/plain; version=0.0.4",
                     render_metrics(workers, node_figures(control, admin, sessions))});
        });
    });
}

}  // namespace hearth::admin::routes
