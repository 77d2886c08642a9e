#include "admin/routes/route_table.h"

#include <array>

#include "admin/routes/handlers.h"

namespace hearth::admin {

namespace {

constexpr std::array table{
    RouteEntry{Route::health, routes::report_health},
    RouteEntry{Route::metrics, routes::serve_metrics},
    RouteEntry{Route::list_allocations, routes::list_allocations},
    RouteEntry{Route::get_allocation, routes::get_allocation},
    RouteEntry{Route::list_sessions, routes::list_sessions},
    RouteEntry{Route::revoke_session, routes::revoke_session},
    RouteEntry{Route::get_session_record, routes::get_session_record},
    RouteEntry{Route::list_ended_sessions, routes::list_ended_sessions},
    RouteEntry{Route::mint_credentials, routes::mint_credentials},
    RouteEntry{Route::drain, routes::drain},
    RouteEntry{Route::undrain, routes::undrain},
    RouteEntry{Route::list_secrets, routes::list_secrets},
    RouteEntry{Route::add_secret, routes::add_secret},
    RouteEntry{Route::retire_secret, routes::retire_secret},
    RouteEntry{Route::list_nodes, routes::list_nodes},
    RouteEntry{Route::reload, routes::reload},
    RouteEntry{Route::show_config, routes::show_config},
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

void answer(const RouteCall& call) {
    const RouteHandler handler = handler_for(call.request.route);
    if (handler == nullptr) {
        call.respond(error_reply(500, "endpoint not wired"));
        return;
    }
    handler(call);
}

}  // namespace hearth::admin
