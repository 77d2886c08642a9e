#include "admin/metrics.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "relay/turn/authenticator.h"

namespace hearth::admin {

namespace {

constexpr std::array<const char*, 3> transports{"udp", "tcp", "tls"};

class Exposition {
  public:
    void family(const char* name, const char* type, const char* help) {
        text_ +=
            std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    }
    void sample(const char* name, const std::string& labels, std::uint64_t value) {
        text_ += name;
        if (!labels.empty()) {
            text_ += "{" + labels + "}";
        }
        text_ += " " + std::to_string(value) + "\n";
    }
    std::string take() { return std::move(text_); }

  private:
    std::string text_;
};

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

}  // namespace

std::string render_metrics(const std::vector<relay::WorkerSnapshot>& workers,
                           const NodeFigures& node) {
    turn::ServerCounters total;
    relay::IoCounters io;
    std::array<turn::DirectionCounters, 3> to_peer{};
    std::array<turn::DirectionCounters, 3> to_client{};
    std::uint64_t active = 0;
    for (const auto& worker : workers) {
        const auto& c = worker.counters;
        total.binding_requests += c.binding_requests;
        total.allocations_created += c.allocations_created;
        total.allocations_deleted += c.allocations_deleted;
        total.error_responses += c.error_responses;
        total.peer_policy_refusals += c.peer_policy_refusals;
        total.session_refusals += c.session_refusals;
        total.malformed_messages += c.malformed_messages;
        total.dropped_no_allocation += c.dropped_no_allocation;
        total.dropped_no_permission += c.dropped_no_permission;
        total.dropped_no_channel += c.dropped_no_channel;
        total.dropped_bandwidth += c.dropped_bandwidth;
        total.rate_limited += c.rate_limited;
        total.allocate_rate_limited += c.allocate_rate_limited;
        total.upkeep_rate_limited += c.upkeep_rate_limited;
        total.banned_drops += c.banned_drops;
        total.bans += c.bans;
        for (std::size_t i = 0; i < total.auth_failures_by_reason.size(); ++i) {
            total.auth_failures_by_reason[i] += c.auth_failures_by_reason[i];
        }
        for (std::size_t t = 0; t < transports.size(); ++t) {
            to_peer[t].packets += c.retired_client_to_peer[t].packets;
            to_peer[t].bytes += c.retired_client_to_peer[t].bytes;
            to_client[t].packets += c.retired_peer_to_client[t].packets;
            to_client[t].bytes += c.retired_peer_to_client[t].bytes;
        }
        for (const auto& allocation : worker.allocations) {
            std::size_t t = 0;
            while (t + 1 < transports.size() && allocation.transport != transports[t]) {
                ++t;
            }
            to_peer[t].packets += allocation.client_to_peer.packets;
            to_peer[t].bytes += allocation.client_to_peer.bytes;
            to_client[t].packets += allocation.peer_to_client.packets;
            to_client[t].bytes += allocation.peer_to_client.bytes;
        }
        active += worker.allocations.size();
        const auto& w = worker.io;
        io.udp_dropped_not_stun += w.udp_dropped_not_stun;
        io.dropped_malformed += w.dropped_malformed;
        io.udp_dropped_truncated += w.udp_dropped_truncated;
        io.udp_send_failures += w.udp_send_failures;
        io.relay_send_failures += w.relay_send_failures;
        io.stream_dropped_not_stun += w.stream_dropped_not_stun;
        io.stream_dropped_output_full += w.stream_dropped_output_full;
        io.tls_handshake_failures += w.tls_handshake_failures;
        io.tcp_peer_refused_without_permission += w.tcp_peer_refused_without_permission;
        io.tcp_peer_bind_timeouts += w.tcp_peer_bind_timeouts;
        io.tcp_relay_bandwidth_pauses += w.tcp_relay_bandwidth_pauses;
        io.accept_out_of_descriptors += w.accept_out_of_descriptors;
        io.relay_out_of_descriptors += w.relay_out_of_descriptors;
        io.requests_dropped_waiting_for_store += w.requests_dropped_waiting_for_store;
        io.requests_parked += w.requests_parked;
        io.requests_resumed += w.requests_resumed;
    }

    Exposition out;
    out.family("hearth_start_time_seconds", "gauge", "Unix time hearthd started.");
    out.sample("hearth_start_time_seconds", "", static_cast<std::uint64_t>(node.start_time_unix));
    out.family("hearth_allocations_active", "gauge", "Allocations alive now.");
    out.sample("hearth_allocations_active", "", active);
    out.family("hearth_allocations_created_total", "counter", "Allocations created.");
    out.sample("hearth_allocations_created_total", "", total.allocations_created);
    out.family("hearth_allocations_deleted_total", "counter", "Allocations deleted, any reason.");
    out.sample("hearth_allocations_deleted_total", "", total.allocations_deleted);
    out.family("hearth_binding_requests_total", "counter", "STUN Binding requests.");
    out.sample("hearth_binding_requests_total", "", total.binding_requests);

    out.family("hearth_relayed_packets_total", "counter",
               "Packets relayed, by direction and client transport.");
    out.family("hearth_relayed_bytes_total", "counter",
               "Payload bytes relayed, by direction and client transport.");
    for (std::size_t t = 0; t < transports.size(); ++t) {
        const std::string transport = std::string("transport=\"") + transports[t] + "\"";
        out.sample("hearth_relayed_packets_total", "direction=\"client_to_peer\"," + transport,
                   to_peer[t].packets);
        out.sample("hearth_relayed_packets_total", "direction=\"peer_to_client\"," + transport,
                   to_client[t].packets);
        out.sample("hearth_relayed_bytes_total", "direction=\"client_to_peer\"," + transport,
                   to_peer[t].bytes);
        out.sample("hearth_relayed_bytes_total", "direction=\"peer_to_client\"," + transport,
                   to_client[t].bytes);
    }

    out.family("hearth_dropped_packets_total", "counter", "Packets dropped, by reason.");
    const std::pair<const char*, std::uint64_t> drops[] = {
        {"no_allocation", total.dropped_no_allocation},
        {"no_permission", total.dropped_no_permission},
        {"no_channel", total.dropped_no_channel},
        {"bandwidth", total.dropped_bandwidth},
        {"malformed",
         total.malformed_messages + io.dropped_malformed},
        {"not_stun", io.udp_dropped_not_stun + io.stream_dropped_not_stun},
        {"truncated", io.udp_dropped_truncated},
        {"rate_limit", total.rate_limited},
        {"allocate_rate_limit", total.allocate_rate_limited},
        {"upkeep_rate_limit", total.upkeep_rate_limited},
        {"banned_source", total.banned_drops},
        {"queue_full", io.stream_dropped_output_full},
        {"send_failed", io.udp_send_failures + io.relay_send_failures},
        {"store_queue_full", io.requests_dropped_waiting_for_store},
    };
    for (const auto& [reason, count] : drops) {
        out.sample("hearth_dropped_packets_total", std::string("reason=\"") + reason + "\"", count);
    }

    out.family("hearth_auth_failures_total", "counter", "Requests whose credentials failed.");
    const std::pair<turn::AuthFailure, const char*> failures[] = {
        {turn::AuthFailure::missing_integrity, "missing_integrity"},
        {turn::AuthFailure::missing_attributes, "missing_attributes"},
        {turn::AuthFailure::wrong_realm, "wrong_realm"},
        {turn::AuthFailure::stale_nonce, "stale_nonce"},
        {turn::AuthFailure::malformed_username, "malformed_username"},
        {turn::AuthFailure::expired_username, "expired_username"},
        {turn::AuthFailure::bad_integrity, "bad_integrity"},
    };
    for (const auto& [failure, name] : failures) {
        out.sample("hearth_auth_failures_total", std::string("reason=\"") + name + "\"",
                   total.auth_failures_by_reason[static_cast<std::size_t>(failure)]);
    }
    out.family("hearth_source_bans_total", "counter",
               "Source addresses banned after repeated authentication failures.");
    out.sample("hearth_source_bans_total", "", total.bans);
    out.family("hearth_error_responses_total", "counter", "Error responses sent.");
    out.sample("hearth_error_responses_total", "", total.error_responses);
    out.family("hearth_peer_policy_refusals_total", "counter", "Peers refused by the policy.");
    out.sample("hearth_peer_policy_refusals_total", "", total.peer_policy_refusals);
    out.family("hearth_session_refusals_total", "counter", "Allocations refused by the store.");
    out.sample("hearth_session_refusals_total", "", total.session_refusals);

    out.family("hearth_requests_parked_total", "counter",
               "Requests that waited for the session store's answer.");
    out.sample("hearth_requests_parked_total", "", io.requests_parked);
    out.family("hearth_requests_resumed_total", "counter",
               "Parked requests handed in again when the store answered their question.");
    out.sample("hearth_requests_resumed_total", "", io.requests_resumed);

    out.family("hearth_sessions_active", "gauge", "Sessions in the active state.");
    out.sample("hearth_sessions_active", "", node.sessions_active);
    out.family("hearth_session_store_up", "gauge", "1 while the session store answers.");
    out.sample("hearth_session_store_up", "", node.session_store_up ? 1 : 0);
    out.family("hearth_connections_open", "gauge", "TCP and TLS client connections open.");
    out.sample("hearth_connections_open", "", node.connections_open);
    out.family("hearth_connections_refused_total", "counter",
               "TCP and TLS connections refused, by the bound reached.");
    out.sample("hearth_connections_refused_total", "limit=\"total\"",
               node.connections_refused_total);
    out.sample("hearth_connections_refused_total", "limit=\"per_source\"",
               node.connections_refused_per_source);
    out.family("hearth_tls_handshake_failures_total", "counter",
               "TLS handshakes that failed or timed out.");
    out.sample("hearth_tls_handshake_failures_total", "", io.tls_handshake_failures);
    out.family("hearth_tcp_peer_connections_refused_total", "counter",
               "RFC 6062 peer connections refused for want of a permission.");
    out.sample("hearth_tcp_peer_connections_refused_total", "",
               io.tcp_peer_refused_without_permission);
    out.family("hearth_tcp_peer_bind_timeouts_total", "counter",
               "RFC 6062 peer connections closed unbound after 30 s.");
    out.sample("hearth_tcp_peer_bind_timeouts_total", "", io.tcp_peer_bind_timeouts);
    out.family("hearth_tcp_relay_bandwidth_pauses_total", "counter",
               "Times an RFC 6062 connection stopped reading until its allocation's or "
               "session's bandwidth budget refilled (delayed, not dropped).");
    out.sample("hearth_tcp_relay_bandwidth_pauses_total", "", io.tcp_relay_bandwidth_pauses);
    out.family("hearth_udp_socket_drops", "gauge",
               "Datagrams the kernel dropped on the open UDP sockets (receive buffer full), "
               "from /proc/net/udp; closed sockets take theirs along.");
    out.sample("hearth_udp_socket_drops", "", node.udp_socket_drops);
    out.family("hearth_out_of_descriptors_total", "counter",
               "Times a file descriptor was wanted and none was left: an accept paused, or a "
               "relay socket refused (the Allocate got 508).");
    out.sample("hearth_out_of_descriptors_total", "where=\"accept\"", io.accept_out_of_descriptors);
    out.sample("hearth_out_of_descriptors_total", "where=\"relay_socket\"",
               io.relay_out_of_descriptors);

    if (node.per_allocation_series) {
        struct Series {
            const char* name;
            const char* help;
        };
        const Series series[] = {
            {"hearth_allocation_relayed_bytes", "Payload bytes one allocation relayed so far."},
            {"hearth_allocation_bits_per_second", "One allocation's rate over the last 5 s."},
            {"hearth_allocation_rtp_lost", "RTP packets lost between sender and relay."},
            {"hearth_allocation_jitter_microseconds", "RTP interarrival jitter (RFC 3550 A.8)."},
        };
        for (const auto& [name, help] : series) {
            out.family(name, "gauge", help);
            for (const auto& worker : workers) {
                for (const auto& allocation : worker.allocations) {
                    const std::string labels = "allocation=\"" + std::to_string(allocation.id) +
                                               "\",session=\"" +
                                               label_value(allocation.session_id) + "\",user=\"" +
                                               label_value(allocation.user_id) + "\",direction=\"";
                    const auto value = [&](const turn::DirectionCounters& counters,
                                           std::uint64_t bps, const turn::MediaTotals& media) {
                        const std::string_view series_name(name);
                        if (series_name == "hearth_allocation_relayed_bytes")
                            return counters.bytes;
                        if (series_name == "hearth_allocation_bits_per_second")
                            return bps;
                        if (series_name == "hearth_allocation_rtp_lost") {
                            return static_cast<std::uint64_t>(
                                std::max<std::int64_t>(media.rtp_lost, 0));
                        }
                        return static_cast<std::uint64_t>(media.jitter_milliseconds * 1000.0);
                    };
                    out.sample(name, labels + "client_to_peer\"",
                               value(allocation.client_to_peer, allocation.client_to_peer_bps,
                                     allocation.client_to_peer_media));
                    out.sample(name, labels + "peer_to_client\"",
                               value(allocation.peer_to_client, allocation.peer_to_client_bps,
                                     allocation.peer_to_client_media));
                }
            }
        }
        out.family("hearth_allocation_quality", "gauge", "Quality score 0-100 (README).");
        for (const auto& worker : workers) {
            for (const auto& allocation : worker.allocations) {
                out.sample("hearth_allocation_quality",
                           "allocation=\"" + std::to_string(allocation.id) + "\",session=\"" +
                               label_value(allocation.session_id) + "\",user=\"" +
                               label_value(allocation.user_id) + "\"",
                           static_cast<std::uint64_t>(allocation.quality));
            }
        }
    }
    return out.take();
}

}  // namespace hearth::admin
