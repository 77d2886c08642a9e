// GET /v1/nodes: the nodes registered in Redis (none with the embedded store).

#include "admin/routes/handlers.h"
#include "auth/minting_choice.h"
#include "auth/redis_session_store.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

void list_nodes(const RouteCall& call) {
    call.control.list_nodes([respond = call.respond](std::vector<auth::NodeInfo> nodes) {
        Json list = Json::array();
        for (const auto& node : nodes) {
            list.push_back({{"id", node.id},
                            {"turn", node.turn},
                            {"admin", node.admin},
                            {"draining", node.draining},
                            {"allocations", node.allocations},
                            {"seen", node.seen_unix},
                            {"secrets", auth::parse_report(node.secrets)}});
        }
        respond(json_reply(200, {{"nodes", std::move(list)}}));
    });
}

}  // namespace hearth::admin::routes
