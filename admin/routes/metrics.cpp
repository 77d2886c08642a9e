// GET /metrics: the Prometheus exposition, rendered by admin/metrics.cpp from the workers'
// snapshots and the node's own figures gathered here.

#include "admin/metrics.h"

#include "admin/routes/handlers.h"
#include "auth/session_store.h"
#include "relay/daemon/daemon.h"
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
