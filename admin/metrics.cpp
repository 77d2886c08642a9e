#include "admin/metrics.h"

#include <algorithm>
#include <array>

#include "admin/counter_rendering.h"

namespace hearth::admin {

namespace {

constexpr std::array<const char*, 3> transports{"udp", "tcp", "tls"};

// Prometheus label values escape backslash, quote and newline.
std::string label_value(const std::string& value) {
    std::string escaped;
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            escaped += '\\';
        }
        escaped += c == '\n' ? 'n' : c;
    }
    return escaped;
}

void add_relayed_traffic(Exposition& out, const relay::NodeCounters& totals) {
    for (std::size_t t = 0; t < transports.size(); ++t) {
        const std::string transport = std::string(R"(,transport=")") + transports[t] + "\"";
        out.add_rows(turn::direction_counter_rows, totals.client_to_peer[t],
                     R"(direction="client_to_peer")" + transport);
        out.add_rows(turn::direction_counter_rows, totals.peer_to_client[t],
                     R"(direction="peer_to_client")" + transport);
    }
}

// admin.per_allocation_metrics: series labelled by allocation, session and user.
void add_allocation_series(Exposition& out, const relay::AllocationSnapshot& allocation) {
    const std::string labels = "allocation=\"" + std::to_string(allocation.id) + "\",session=\"" +
                               label_value(allocation.session_id) + "\",user=\"" +
                               label_value(allocation.user_id) + "\"";
    const auto gauge = CounterKind::gauge;
    for (const auto& [direction, counters, bps, media] :
         {std::tuple{"client_to_peer", &allocation.client_to_peer, allocation.client_to_peer_bps,
                     &allocation.client_to_peer_media},
          std::tuple{"peer_to_client", &allocation.peer_to_client, allocation.peer_to_client_bps,
                     &allocation.peer_to_client_media}}) {
        const std::string leg = labels + ",direction=\"" + direction + "\"";
        out.add("hearth_allocation_relayed_bytes", gauge,
                "Payload bytes one allocation relayed so far.", leg, counters->bytes);
        out.add("hearth_allocation_bits_per_second", gauge,
                "One allocation's rate over the last 5 s.", leg, bps);
        out.add("hearth_allocation_rtp_lost", gauge, "RTP packets lost between sender and relay.",
                leg, static_cast<std::uint64_t>(std::max<std::int64_t>(media->rtp_lost, 0)));
        out.add("hearth_allocation_jitter_microseconds", gauge,
                "RTP interarrival jitter (RFC 3550 A.8).", leg,
                static_cast<std::uint64_t>(media->jitter_milliseconds * 1000.0));
    }
    out.add("hearth_allocation_quality", gauge, "Quality score 0-100 (README).", labels,
            static_cast<std::uint64_t>(allocation.quality));
}

}  // namespace

std::string render_metrics(const std::vector<relay::WorkerSnapshot>& workers,
                           const NodeFigures& node) {
    const relay::NodeCounters totals = relay::sum_of(workers);
    NodeFigures figures = node;
    figures.allocations_active = totals.allocations_active;
    Exposition out;
    out.add_rows(node_figure_rows, figures);
    out.add_rows(turn::server_counter_rows, totals.server);
    add_relayed_traffic(out, totals);
    out.add_rows(relay::io_counter_rows, totals.io);
    if (node.per_allocation_series) {
        for (const auto& worker : workers) {
            for (const auto& allocation : worker.allocations) {
                add_allocation_series(out, allocation);
            }
        }
    }
    return out.text();
}

}  // namespace hearth::admin
