// GET /v1/nodes: the nodes registered in Redis (none with the embedded store).

#include "admin/json_writer.h"
#include "admin/routes/handlers.h"
#include "auth/minting_choice.h"
#include "auth/redis_session_store.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

void list_nodes(const RouteCall& call) {
    call.control.list_nodes([respond = call.respond](std::vector<auth::NodeInfo> nodes) {
        JsonWriter json;
        json.begin_object().key("nodes").begin_array();
        for (const auto& node : nodes) {
            json.begin_object()
                .field("id", node.id)
                .field("turn", node.turn)
                .field("admin", node.admin)
                .field("draining", node.draining)
                .field("allocations", node.allocations)
                .field("seen", node.seen_unix)
                .key("secrets")
                .begin_array();
            for (const auto& name : auth::parse_report(node.secrets)) {
                json.value(name);
            }
            json.end_array().end_object();
        }
        json.end_array().end_object();
        respond({200, "application/json", json.take()});
    });
}

}  // namespace hearth::admin::routes
