// GET /v1/version: which hearthd answers, for `hearthctl version` and upgrades.

#include "admin/routes/handlers.h"

namespace hearth::admin::routes {

void report_version(const RouteCall& call) {
    call.respond(json_reply(200, {{"version", HEARTH_VERSION}}));
}

}  // namespace hearth::admin::routes
