// POST /v1/drain[?deadline=S] and POST /v1/undrain: stop taking allocations (new
// Allocates are redirected) or take them again.

#include <chrono>
#include <optional>

#include "admin/routes/handlers.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin::routes {

namespace {

constexpr std::int64_t max_drain_deadline_seconds = 7 * 86400;

Reply draining_state(const relay::DaemonControl& control) {
    return json_reply(200, {{"draining", control.draining()}});
}

}  // namespace

void drain(const RouteCall& call) {
    auto& control = call.control;
    const std::string deadline_text = query_parameter(call.query, "deadline");
    const auto deadline = deadline_text.empty()
                              ? std::optional<std::int64_t>(control.config().drain.deadline.count())
                              : parse_decimal(deadline_text, 1, max_drain_deadline_seconds);
    if (!deadline) {
        call.respond(error_reply(400, "deadline must be 1 to 604800 seconds"));
        return;
    }
    control.drain(std::chrono::seconds(*deadline));
    // A node with no allocation left stops as soon as it is drained: only once this answer
    // is out, or hearthctl would see the connection close unanswered.
    call.respond_then(draining_state(control),
                      {[](evhttp_request*, void* drained) {
                           static_cast<relay::DaemonControl*>(drained)->check_drain_done();
                       },
                       &control});
}

void undrain(const RouteCall& call) {
    call.control.undrain();
    call.respond(draining_state(call.control));
}

}  // namespace hearth::admin::routes
