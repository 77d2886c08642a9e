#include "admin/metrics.h"

#include <event2/event.h>
#include <openssl/crypto.h>

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
    for (const auto& [direction, counters, bps, media] :
         {std::tuple{"client_to_peer", &allocation.client_to_peer, allocation.client_to_peer_bps,
                     &allocation.client_to_peer_media},
          std::tuple{"peer_to_client", &allocation.peer_to_client, allocation.peer_to_client_bps,
                     &allocation.peer_to_client_media}}) {
        const std::string leg = labels + ",direction=\"" + direction + "\"";
        out.add("hearth_allocation_relayed_bytes_total", CounterKind::counter,
                "Payload bytes one allocation relayed so far.", leg, counters->bytes);
        out.add_real("hearth_allocation_rate_bytes_per_second", CounterKind::gauge,
                     "One allocation's payload rate over the last 5 s.", leg,
                     static_cast<double>(bps) / 8.0);
        // Lost can go down: a late packet counts as received after it was counted lost.
        out.add("hearth_allocation_rtp_lost_packets", CounterKind::gauge,
                "RTP packets lost between sender and relay (RFC 3550 A.3).", leg,
                static_cast<std::uint64_t>(std::max<std::int64_t>(media->rtp_lost, 0)));
        out.add_real("hearth_allocation_jitter_seconds", CounterKind::gauge,
                     "RTP interarrival jitter (RFC 3550 A.8).", leg,
                     media->jitter_milliseconds / 1000.0);
    }
    out.add("hearth_allocation_quality", CounterKind::gauge, "Quality score 0-100 (README).",
            labels, static_cast<std::uint64_t>(allocation.quality));
}

template <typename Histogram, std::size_t Bounds>
void add_histogram(Exposition& out, std::string_view family, std::string_view help,
                   const std::array<double, Bounds>& bounds, const Histogram& histogram) {
    out.add_histogram(family, help, "", bounds, histogram.counts, histogram.sum, histogram.count);
}

void add_allocation_histograms(Exposition& out, const turn::AllocationHistograms& histograms) {
    namespace buckets = turn::allocation_buckets;
    add_histogram(out, "hearth_allocation_duration_seconds",
                  "How long allocations lived, observed as each ended.", buckets::duration,
                  histograms.duration_seconds);
    add_histogram(out, "hearth_allocation_setup_seconds",
                  "From an Allocate's arrival to its success answer, the session store's "
                  "answer awaited included, at the event loop clock's grain.",
                  buckets::setup, histograms.setup_seconds);
    add_histogram(out, "hearth_allocation_loss_ratio",
                  "Fraction of the RTP packets expected that were lost (both directions), "
                  "observed as each allocation that carried RTP ended.",
                  buckets::loss, histograms.loss_ratio);
    add_histogram(out, "hearth_allocation_end_jitter_seconds",
                  "RTP interarrival jitter (the worse direction's), observed as each "
                  "allocation that carried RTP ended.",
                  buckets::jitter, histograms.jitter_seconds);
}

std::string build_labels() {
    return "version=\"" + label_value(HEARTH_VERSION) + "\",openssl=\"" +
           label_value(OpenSSL_version(OPENSSL_VERSION)) + "\",libevent=\"" +
           label_value(event_get_version()) + "\"";
}

// What is not a row of the node's table: the process, the build, the certificates, and
// the session store's round trips.
void add_node_extras(Exposition& out, const NodeFigures& node) {
    out.add("hearth_build_info", CounterKind::gauge,
            "Always 1; the labels name the build and the libraries it runs with.", build_labels(),
            1);
    if (node.process) {
        const auto& process = *node.process;
        out.add_real("process_cpu_seconds_total", CounterKind::counter,
                     "User and system CPU time spent, in seconds.", "", process.cpu_seconds);
        out.add("process_resident_memory_bytes", CounterKind::gauge, "Resident memory size.", "",
                process.resident_memory_bytes);
        out.add("process_open_fds", CounterKind::gauge, "Open file descriptors.", "",
                process.open_fds);
        out.add("process_max_fds", CounterKind::gauge, "The open file descriptor limit.", "",
                process.max_fds);
        out.add_real("process_start_time_seconds", CounterKind::gauge,
                     "Unix time the process started.", "", process.start_time_seconds);
    }
    for (const auto& [file, not_after] : node.certificate_not_after) {
        out.add("hearth_tls_certificate_expiry_timestamp_seconds", CounterKind::gauge,
                "notAfter of the TLS certificate in each file named by the configuration (the "
                "file on disk, which the next reload loads), in Unix seconds.",
                "file=\"" + label_value(file) + "\"",
                static_cast<std::uint64_t>(std::max<std::int64_t>(not_after, 0)));
    }
    if (node.store_round_trips) {
        const auto& trips = *node.store_round_trips;
        out.add_histogram("hearth_session_store_command_duration_seconds",
                          "Round-trip time of the session store's (Redis) commands that were "
                          "answered.",
                          "", auth::RedisConnection::round_trip_bounds, trips.counts, trips.sum,
                          trips.count);
    }
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
    add_allocation_histograms(out, totals.server.histograms);
    add_node_extras(out, node);
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
