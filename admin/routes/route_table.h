#pragma once

// The admin API's route table: the one place that says which function answers each Route
// (admin/admin_request.h). The functions are in this folder, one file per resource.

#include <cstdint>
#include <span>
#include <string_view>

#include "admin/admin_connections.h"
#include "admin/admin_request.h"
#include "admin/node_history.h"
#include "admin/reply.h"

namespace hearth::relay {
class DaemonControl;
}

namespace hearth::admin {

// What a route's handler is given. `request`, `query` and `body` last only for the call
// itself: a handler copies what it needs into an answer that comes later (after the
// workers' snapshots or the session store's reply). `body` is at most 4 KiB.
struct RouteCall {
    relay::DaemonControl& control;
    const AdminRequest& request;
    std::string_view query;
    std::string_view body;
    AdminConnectionCounters connections;  // the admin API's own, for /metrics
    const NodeHistory& history;           // the last 15 minutes, for GET /v1/history
    Respond respond;
    RespondThen respond_then;  // respond, then run AfterSent once the answer is out
};

using RouteHandler = void (*)(const RouteCall& call);

// Who may call a route: anyone (the readiness and liveness checks, which tell no counts),
// a holder of the read-only token or the admin token (what only reads: metrics, status,
// allocations, records, history), or only the admin token (what changes something or mints).
enum class Access : std::uint8_t { anyone, read, admin };

struct RouteEntry {
    Route route;
    RouteHandler handler;
    Access access;
};

std::span<const RouteEntry> route_table();

// The handler the table gives `route`, or null when it has none.
RouteHandler handler_for(Route route);
// Who may call `route`; a route the table lacks is the admin token's.
Access access_for(Route route);

// Answers `call` with its route's handler. The parser is written and fuzzed on its own, so
// a Route can be added there and not here: such a request still gets an answer, 500
// "endpoint not wired", instead of leaving its client waiting on an open connection.
void answer(const RouteCall& call);

}  // namespace hearth::admin
