// The admin API's route table answers every Route the request parser can return.

#include "admin/routes/route_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace hearth::admin {
namespace {

// Whether `value` is one of Route's enumerators. The switch has no default so that
// -Wswitch (an error in the test build) names any Route added to admin_request.h and not
// here: a new Route cannot slip past the test below.
bool names_a_route(int value) {
    switch (static_cast<Route>(value)) {
        case Route::ready:
        case Route::health:
        case Route::status:
        case Route::metrics:
        case Route::list_allocations:
        case Route::get_allocation:
        case Route::list_sessions:
        case Route::revoke_session:
        case Route::get_session_record:
        case Route::list_ended_sessions:
        case Route::mint_credentials:
        case Route::drain:
        case Route::undrain:
        case Route::list_secrets:
        case Route::add_secret:
        case Route::retire_secret:
        case Route::list_nodes:
        case Route::history:
        case Route::reload:
        case Route::show_config:
        case Route::disconnect_allocation:
        case Route::version:
        case Route::set_log_level:
            return true;
    }
    return false;
}

// Route's enumerators take the values 0, 1, 2, ... as declared.
std::vector<Route> every_route() {
    std::vector<Route> routes;
    for (int value = 0; names_a_route(value); ++value) {
        routes.push_back(static_cast<Route>(value));
    }
    return routes;
}

TEST(RouteTable, HasAHandlerForEveryRoute) {
    const auto routes = every_route();
    ASSERT_FALSE(routes.empty());
    for (const Route route : routes) {
        EXPECT_NE(handler_for(route), nullptr) << "Route " << static_cast<int>(route);
    }
}

TEST(RouteTable, ListsNothingButRoutes) {
    EXPECT_EQ(route_table().size(), every_route().size());
    for (const auto& entry : route_table()) {
        EXPECT_TRUE(names_a_route(static_cast<int>(entry.route)));
        EXPECT_NE(entry.handler, nullptr);
    }
}

// Only the readiness and liveness checks (which tell no counts) are open to anyone; whatever
// changes something, mints a credential or shows secrets' names or the config needs the admin
// token, never the read-only one.
TEST(RouteTable, WhatChangesSomethingNeedsTheAdminToken) {
    for (const auto& entry : route_table()) {
        EXPECT_EQ(entry.access == Access::anyone,
                  entry.route == Route::ready || entry.route == Route::health)
            << "Route " << static_cast<int>(entry.route);
    }
    for (const Route route :
         {Route::revoke_session, Route::mint_credentials, Route::drain, Route::undrain,
          Route::list_secrets, Route::add_secret, Route::retire_secret, Route::reload,
          Route::show_config, Route::disconnect_allocation, Route::set_log_level}) {
        EXPECT_EQ(access_for(route), Access::admin) << "Route " << static_cast<int>(route);
    }
    EXPECT_EQ(access_for(Route::metrics), Access::read);
    EXPECT_EQ(access_for(Route::status), Access::read);
    EXPECT_EQ(access_for(Route::version), Access::read);
}

}  // namespace
}  // namespace hearth::admin
