// POST /v1/reload: reread the config file, the TLS certificate and the secrets; 422 when
// the new config is refused whole.

#include "admin/json_writer.h"
#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

void reload(const RouteCall& call) {
    call.control.reload([respond = call.respond](relay::DaemonControl::ReloadReport report) {
        JsonWriter json;
        json.begin_object().field("applied", report.applied);
        for (const auto& [name, list] :
             {std::pair{"errors", &report.errors}, std::pair{"applied_live", &report.applied_keys},
              std::pair{"needs_restart", &report.restart_keys}}) {
            json.key(name).begin_array();
            for (const auto& item : *list) {
                json.value(item);
            }
            json.end_array();
        }
        json.end_object();
        respond({report.applied ? 200 : 422, "application/json", json.take()});
    });
}

}  // namespace hearth::admin::routes
