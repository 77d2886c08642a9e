// GET /v1/history: the node's last 15 minutes, one sample every 5 s (node_history.h), for
// the admin page's plots. Answered from the control loop's ring alone: no worker is asked.

#include <optional>

#include "admin/routes/handlers.h"

namespace hearth::admin::routes {

namespace {

// null when the interval had nothing to measure it by (the admin page leaves a gap).
template <typename T>
Json or_null(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

}  // namespace

void report_history(const RouteCall& call) {
    Json samples = Json::array();
    for (const auto& sample : call.history.ring().samples()) {
        samples.push_back({{"unix_ms", sample.unix_ms},
                           {"to_peer_bps", sample.to_peer_bps},
                           {"to_client_bps", sample.to_client_bps},
                           {"loss", or_null(sample.loss_fraction)},
                           {"allocations", sample.allocations},
                           {"mean_quality", or_null(sample.mean_quality)},
                           {"lowest_quality", or_null(sample.lowest_quality)}});
    }
    call.respond(json_reply(200, {{"interval_seconds", NodeHistory::interval_ms / 1000},
                                  {"capacity", static_cast<std::uint64_t>(HistoryRing::capacity)},
                                  {"samples", std::move(samples)}}));
}

}  // namespace hearth::admin::routes
