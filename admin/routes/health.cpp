// GET /health: whether the node is up, draining, and how busy.

#include "admin/json_writer.h"
#include "admin/routes/handlers.h"
#include "admin/unix_time.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

void report_health(const RouteCall& call) {
    auto& control = call.control;
    control.collect([&control, respond = call.respond](std::vector<relay::WorkerSnapshot> workers) {
        std::uint64_t allocations = 0;
        for (const auto& worker : workers) {
            allocations += worker.allocations.size();
        }
        JsonWriter json;
        json.begin_object()
            .field("status", "ready")
            .field("draining", control.draining())
            .field("uptime_seconds", now_unix() - control.started_unix())
            .field("workers", static_cast<std::uint64_t>(workers.size()))
            .field("allocations", allocations)
            .field("connections", control.connections().open())
            .field("session_store", config::to_string(control.config().session_store.kind))
            .field("session_store_state", control.session_store_up() ? "up" : "down")
            .end_object();
        respond({200, "application/json", json.take()});
    });
}

}  // namespace hearth::admin::routes
