// GET /v1/config: the configuration in effect (README "Admin API"): after a reload, the
// new file's values for the keys that took effect, the running ones for those that wait
// for a restart.

#include "admin/config_json.h"
#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

void show_config(const RouteCall& call) {
    call.respond({200, "application/json", config_as_json(call.control.config())});
}

}  // namespace hearth::admin::routes
