#pragma once

// The functions that answer the admin API's routes, by the file that holds them. Which
// Route each answers is said once, in route_table.cpp.

#include "admin/routes/route_table.h"

namespace hearth::admin::routes {

// health.cpp
void report_readiness(const RouteCall& call);
void report_health(const RouteCall& call);
void report_status(const RouteCall& call);

// metrics.cpp
void serve_metrics(const RouteCall& call);

// allocations.cpp
void list_allocations(const RouteCall& call);
void get_allocation(const RouteCall& call);
void disconnect_allocation(const RouteCall& call);

// sessions.cpp
void list_sessions(const RouteCall& call);
void revoke_session(const RouteCall& call);

// records.cpp
void get_session_record(const RouteCall& call);
void list_ended_sessions(const RouteCall& call);

// credentials.cpp
void mint_credentials(const RouteCall& call);

// drain.cpp
void drain(const RouteCall& call);
void undrain(const RouteCall& call);

// secrets.cpp
void list_secrets(const RouteCall& call);
void add_secret(const RouteCall& call);
void retire_secret(const RouteCall& call);

// nodes.cpp
void list_nodes(const RouteCall& call);

// history.cpp
void report_history(const RouteCall& call);

// reload.cpp
void reload(const RouteCall& call);

// config.cpp
void show_config(const RouteCall& call);

// version.cpp
void report_version(const RouteCall& call);

// log_level.cpp
void set_log_level(const RouteCall& call);

}  // namespace hearth::admin::routes
