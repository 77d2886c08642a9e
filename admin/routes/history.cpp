// GET /v1/history: the node's last 15 minutes, one sample every 5 s (node_history.h), for
// the admin page's plots. Answered from the control loop's ring alone: no worker is asked.

#include <optional>

#include "admin/json_writer.h"
#include "admin/routes/handlers.h"

namespace hearth::admin::routes {

namespace {

template <typename T>
void optional_field(JsonWriter& json, std::string_view name, const std::optional<T>& value) {
    json.key(name);
    if (value) {
        json.value(*value);
    } else {
        json.null();
    }
}

}  // namespace

void report_history(const RouteCall& call) {
    JsonWriter json;
    json.begin_object()
        .field("interval_seconds", NodeHistory::interval_ms / 1000)
        .field("capacity", static_cast<std::uint64_t>(HistoryRing::capacity));
    json.key("samples").begin_array();
    for (const auto& sample : call.history.ring().samples()) {
        json.begin_object()
            .field("unix_ms", sample.unix_ms)
            .field("to_peer_bps", sample.to_peer_bps)
            .field("to_client_bps", sample.to_client_bps);
        optional_field(json, "loss", sample.loss_fraction);
        json.field("allocations", sample.allocations);
        optional_field(json, "mean_quality", sample.mean_quality);
        optional_field(json, "lowest_quality", sample.lowest_quality);
        json.end_object();
    }
    json.end_array().end_object();
    call.respond({200, "application/json", json.take()});
}

}  // namespace hearth::admin::routes
