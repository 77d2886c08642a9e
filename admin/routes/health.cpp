// Without a token, for load balancers and process supervisors, no counts and no names:
// GET /ready, whether to send new clients here, and GET /health, whether the node is alive
// (it answers). With a token, GET /v1/status: whether the node is up, draining,
// and how busy, with every counter of the workers (the counter tables, summed).

#include "admin/counter_rendering.h"
#include "admin/routes/handlers.h"
#include "admin/unix_time.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

const char* status_of(relay::DaemonControl& control) {
    return control.draining() ? "draining" : control.session_store_up() ? "ready" : "degraded";
}

}  // namespace

// No counts and no names: anyone who reaches the admin API may ask. 503 while draining
// (new allocations are redirected); "degraded" (the session store is out) stays 200,
// since the node still relays and would be as degraded as its peers sharing the store.
void report_readiness(const RouteCall& call) {
    auto& control = call.control;
    call.respond(json_reply(control.draining() ? 503 : 200, {{"status", status_of(control)}}));
}

// Liveness: 200 whenever the node answers at all, whatever its state, which "status" names
// as /ready does. Answered by the control loop alone: a caller without a token makes no
// worker copy anything.
void report_health(const RouteCall& call) {
    call.respond(json_reply(200, {{"status", status_of(call.control)}}));
}

void report_status(const RouteCall& call) {
    auto& control = call.control;
    control.collect([&control, respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
        const relay::NodeCounters totals = relay::sum_of(workers);
        CounterFields counters;
        counters.add_rows(turn::server_counter_rows, totals.server);
        counters.add_rows(relay::io_counter_rows, totals.io);
        Json json = {// A node whose store is out still relays every call, but refuses new sessions
                     // it does not know: a load balancer may prefer another.
                     {"status", control.session_store_up() ? "ready" : "degraded"},
                     {"draining", control.draining()},
                     {"uptime_seconds", now_unix() - control.started_unix()},
                     {"workers", static_cast<std::uint64_t>(workers.size())},
                     {"allocations", totals.allocations_active},
                     {"connections", control.connections().open()},
                     {"session_store", config::to_string(control.config().session_store.kind)},
                     {"session_store_state", control.session_store_up() ? "up" : "down"},
                     {"session_store_outages", control.session_store_outages()},
                     {"session_store_timeouts", control.session_store_timeouts()}};
        counters.write(json["counters"] = Json::object());
        respond(json_reply(200, json));
    });
}

}  // namespace hearth::admin::routes
