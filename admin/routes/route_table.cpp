#include "admin/routes/route_table.h"

#include <array>

#include "admin/routes/handlers.h"

namespace hearth::admin {

namespace {

constexpr std::array table{
    RouteEntry{Route::ready, routes::report_readiness, Access::anyone},
    RouteEntry{Route::health, routes::report_health, Access::anyone},
    RouteEntry{Route::status, routes::report_status, Access::read},
    RouteEntry{Route::metrics, routes::serve_metrics, Access::read},
    RouteEntry{Route::list_allocations, routes::list_allocations, Access::read},
    RouteEntry{Route::get_allocation, routes::get_allocation, Access::read},
    RouteEntry{Route::list_sessions, routes::list_sessions, Access::read},
    RouteEntry{Route::revoke_session, routes::revoke_session, Access::admin},
    RouteEntry{Route::get_session_record, routes::get_session_record, Access::read},
    RouteEntry{Route::list_ended_sessions, routes::list_ended_sessions, Access::read},
    RouteEntry{Route::mint_credentials, routes::mint_credentials, Access::admin},
    RouteEntry{Route::drain, routes::drain, Access::admin},
    RouteEntry{Route::undrain, routes::undrain, Access::admin},
    RouteEntry{Route::list_secrets, routes::list_secrets, Access::admin},
    RouteEntry{Route::add_secret, routes::add_secret, Access::admin},
    RouteEntry{Route::retire_secret, routes::retire_secret, Access::admin},
    RouteEntry{Route::list_nodes, routes::list_nodes, Access::read},
    RouteEntry{Route::history, routes::report_history, Access::read},
    RouteEntry{Route::reload, routes::reload, Access::admin},
    RouteEntry{Route::show_config, routes::show_config, Access::admin},
    RouteEntry{Route::disconnect_allocation, routes::disconnect_allocation, Access::admin},
    RouteEntry{Route::version, routes::report_version, Access::read},
    RouteEntry{Route::set_log_level, routes::set_log_level, Access::admin},
};

constexpr bool each_route_listed_once() {
    for (std::size_t i = 0; i < table.size(); ++i) {
        for (std::size_t j = i + 1; j < table.size(); ++j) {
            if (table[i].route == table[j].route) {
                return false;
            }
        }
    }
    return true;
}
// A second entry for a Route would never be reached: the first one answers.
static_assert(each_route_listed_once());

}  // namespace

std::span<const RouteEntry> route_table() {
    return table;
}

RouteHandler handler_for(Route route) {
    for (const auto& entry : table) {
        if (entry.route == route) {
            return entry.handler;
        }
    }
    return nullptr;
}

Access access_for(Route route) {
    for (const auto& entry : table) {
        if (entry.route == route) {
            return entry.access;
        }
    }
    return Access::admin;
}

void answer(const RouteCall& call) {
    const RouteHandler handler = handler_for(call.request.route);
    if (handler == nullptr) {
        call.respond(error_reply(500, "endpoint not wired"));
        return;
    }
    handler(call);
}

}  // namespace hearth::admin
