#include "bench/load/load_report.h"

#include <cstdio>

namespace hearth::load {

namespace {

struct Figures {
    double setup_rate = 0;
    double packets_per_second = 0;
    double bits_per_second = 0;
    double loss_percent = 0;
    std::uint64_t lost = 0;
    std::uint64_t p50 = 0;
    std::uint64_t p99 = 0;
    std::uint64_t p999 = 0;
    std::optional<double> packets_per_server_cpu_second;
    std::optional<double> rss_bytes_per_allocation;
};

const char* transport_name(Transport transport) {
    return transport == Transport::tcp ? "tcp" : transport == Transport::tls ? "tls" : "udp";
}

Figures figures_of(const LoadOptions& options, const LoadReport& report) {
    const TrafficResult& traffic = *report.traffic;
    Figures figures;
    figures.setup_rate = report.setup_seconds > 0 ? options.allocations / report.setup_seconds : 0;
    figures.packets_per_second =
        traffic.seconds > 0 ? traffic.relayed_packets / traffic.seconds : 0;
    figures.bits_per_second =
        traffic.seconds > 0 ? traffic.relayed_bytes * 8.0 / traffic.seconds : 0;
    figures.lost =
        traffic.sent > traffic.client_received ? traffic.sent - traffic.client_received : 0;
    figures.loss_percent = traffic.sent > 0 ? 100.0 * figures.lost / traffic.sent : 0;
    figures.p50 = traffic.latency.percentile(0.50);
    figures.p99 = traffic.latency.percentile(0.99);
    figures.p999 = traffic.latency.percentile(0.999);
    if (report.server_cpu_seconds && *report.server_cpu_seconds > 0) {
        figures.packets_per_server_cpu_second =
            traffic.relayed_packets / *report.server_cpu_seconds;
    }
    if (report.server_rss_before_kib && report.server_rss_allocated_kib) {
        figures.rss_bytes_per_allocation = (static_cast<double>(*report.server_rss_allocated_kib) -
                                            static_cast<double>(*report.server_rss_before_kib)) *
                                           1024.0 / options.allocations;
    }
    return figures;
}

std::string line(const char* format, auto... values) {
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, format, values...);
    return buffer;
}

}  // namespace

std::string format_table(const LoadOptions& options, const LoadReport& report) {
    const Figures figures = figures_of(options, report);
    const TrafficResult& traffic = *report.traffic;
    std::string out;
    out += line(
        "hearth-load: %u allocations over %s to %s, %s, %u B payload, %u pkt/s each, "
        "%.1f s%s\n",
        options.allocations, transport_name(options.transport), options.server.to_string().c_str(),
        options.raw                         ? "plain datagrams (no TURN)"
        : options.mode == DataMode::channel ? "ChannelData"
                                            : "Send/Data indications",
        options.payload_bytes, options.rate_per_allocation, traffic.seconds,
        options.client_to_client ? ", client to client" : ", via an echo peer");
    if (!options.bounce_interface.empty()) {
        out += line("  turned around in XDP on %s, %u packets in flight each, no pacing\n",
                    options.bounce_interface.c_str(), options.in_flight);
    }
    if (!options.raw) {
        out += line("  allocation setup          %.0f /s (%u in %.3f s)\n", figures.setup_rate,
                    options.allocations, report.setup_seconds);
        if (report.server_setup_cpu_seconds) {
            out += line("  server CPU per setup      %.1f us (hearth-load's own: %.1f us)\n",
                        1e6 * *report.server_setup_cpu_seconds / options.allocations,
                        1e6 * report.own_setup_cpu_seconds / options.allocations);
        }
    }
    out += line("  relayed                   %.0f packets/s, %.2f Mbit/s payload\n",
                figures.packets_per_second, figures.bits_per_second / 1e6);
    out += line("  loss                      %.3f %% (%llu of %llu)\n", figures.loss_percent,
                static_cast<unsigned long long>(figures.lost),
                static_cast<unsigned long long>(traffic.sent));
    out += line("  latency p50 / p99 / p99.9 %llu / %llu / %llu us (%s)\n",
                static_cast<unsigned long long>(figures.p50),
                static_cast<unsigned long long>(figures.p99),
                static_cast<unsigned long long>(figures.p999),
                options.client_to_client ? "one way" : "round trip, through the relay twice");
    if (report.server_cpu_seconds) {
        out += line("  server CPU                %.2f s (%.0f %% of one core)\n",
                    *report.server_cpu_seconds,
                    traffic.seconds > 0 ? 100 * *report.server_cpu_seconds / traffic.seconds : 0);
    }
    if (figures.packets_per_server_cpu_second) {
        out += line("  packets per server CPU-s  %.0f\n", *figures.packets_per_server_cpu_second);
    }
    if (figures.rss_bytes_per_allocation) {
        out += line("  server RSS per allocation %.0f B (idle, with its channel)\n",
                    *figures.rss_bytes_per_allocation);
    }
    if (traffic.machine_busy_seconds && *traffic.machine_busy_seconds > 0) {
        out += line("  packets per machine CPU-s %.0f (%.2f busy CPU-s)\n",
                    traffic.relayed_packets / *traffic.machine_busy_seconds,
                    *traffic.machine_busy_seconds);
    }
    out += line("  hearth-load's own CPU     %.2f s\n", report.own_cpu_seconds);
    return out;
}

std::string format_json(const LoadOptions& options, const LoadReport& report) {
    const Figures figures = figures_of(options, report);
    const TrafficResult& traffic = *report.traffic;
    std::string out = "{";
    out += line("\"server\":\"%s\",\"transport\":\"%s\",\"mode\":\"%s\",\"client_to_client\":%s,",
                options.server.to_string().c_str(), transport_name(options.transport),
                options.raw                         ? "raw"
                : options.mode == DataMode::channel ? "channel"
                                                    : "send",
                options.client_to_client ? "true" : "false");
    out += line(
        "\"allocations\":%u,\"payload_bytes\":%u,\"rate_per_allocation\":%u,"
        "\"seconds\":%.3f,",
        options.allocations, options.payload_bytes, options.rate_per_allocation, traffic.seconds);
    if (!options.bounce_interface.empty()) {
        out += line("\"bounce\":\"%s\",\"in_flight\":%u,", options.bounce_interface.c_str(),
                    options.in_flight);
    }
    out += line("\"setup_seconds\":%.4f,\"allocations_per_second\":%.1f,", report.setup_seconds,
                figures.setup_rate);
    if (report.server_setup_cpu_seconds) {
        out += line("\"server_setup_cpu_seconds\":%.4f,", *report.server_setup_cpu_seconds);
    }
    out += line("\"own_setup_cpu_seconds\":%.4f,", report.own_setup_cpu_seconds);
    out += line("\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"loss_percent\":%.4f,",
                static_cast<unsigned long long>(traffic.sent),
                static_cast<unsigned long long>(traffic.client_received),
                static_cast<unsigned long long>(figures.lost), figures.loss_percent);
    out += line("\"relayed_packets\":%llu,\"packets_per_second\":%.1f,\"bits_per_second\":%.0f,",
                static_cast<unsigned long long>(traffic.relayed_packets),
                figures.packets_per_second, figures.bits_per_second);
    out += line("\"latency_us\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu},",
                static_cast<unsigned long long>(figures.p50),
                static_cast<unsigned long long>(figures.p99),
                static_cast<unsigned long long>(figures.p999));
    if (report.server_cpu_seconds) {
        out += line("\"server_cpu_seconds\":%.3f,", *report.server_cpu_seconds);
    }
    if (figures.packets_per_server_cpu_second) {
        out +=
            line("\"packets_per_server_cpu_second\":%.1f,", *figures.packets_per_server_cpu_second);
    }
    if (figures.rss_bytes_per_allocation) {
        out += line("\"server_rss_bytes_per_allocation\":%.0f,", *figures.rss_bytes_per_allocation);
    }
    if (traffic.machine_busy_seconds) {
        out += line("\"window_machine_busy_seconds\":%.4f,", *traffic.machine_busy_seconds);
    }
    if (traffic.handed_to_relay) {
        out += line("\"handed_to_relay\":%llu,",
                    static_cast<unsigned long long>(*traffic.handed_to_relay));
    }
    out += line("\"load_cpu_seconds\":%.3f}\n", report.own_cpu_seconds);
    return out;
}

}  // namespace hearth::load
