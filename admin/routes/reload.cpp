// POST /v1/reload: reread the config file, the TLS certificate and the secrets; 422 when
// the new config is refused whole.

#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

void reload(const RouteCall& call) {
    call.control.reload([respond = call.respond](relay::DaemonControl::ReloadReport report) {
        respond(json_reply(report.applied ? 200 : 422, {{"applied", report.applied},
                                                        {"errors", report.errors},
                                                        {"applied_live", report.applied_keys},
                                                        {"needs_restart", report.restart_keys}}));
    });
}

}  // namespace hearth::admin::routes
