#pragma once

// What a worker's socket layer counts (drops and refusals by reason, and the requests
// parked on the session store), with its table (relay/turn/counter_table.h).

#include <array>
#include <cstdint>

#include "relay/turn/counter_table.h"

namespace hearth::relay {

struct IoCounters {
    std::uint64_t udp_dropped_not_stun = 0;
    std::uint64_t dropped_malformed = 0;  // looked like STUN, did not parse (any transport)
    std::uint64_t udp_dropped_truncated = 0;
    std::uint64_t udp_send_failures = 0;
    std::uint64_t relay_send_failures = 0;
    std::uint64_t stream_dropped_not_stun = 0;
    std::uint64_t stream_dropped_output_full = 0;
    std::uint64_t tls_handshake_failures = 0;
    // TCP and TLS connections closed before making an allocation (issue 17).
    std::uint64_t stream_closed_no_allocation = 0;          // at their deadline
    std::uint64_t stream_closed_unauthenticated_frame = 0;  // for sending ChannelData
    std::uint64_t stream_evicted_unauthenticated = 0;       // to make room for a newcomer
    std::uint64_t tcp_peer_refused_without_permission = 0;
    std::uint64_t tcp_peer_bind_timeouts = 0;
    std::uint64_t tcp_relay_bandwidth_pauses = 0;
    std::uint64_t accept_out_of_descriptors = 0;
    std::uint64_t relay_out_of_descriptors = 0;
    std::uint64_t requests_parked = 0;   // waited for the session store
    std::uint64_t requests_resumed = 0;  // handed in again when it answered
    // Dropped while waiting for the store: the table or the source's share was full, or
    // the answer took too long.
    std::uint64_t requests_dropped_waiting_for_store = 0;
    // PROXY protocol (proxy_header_reader.h): headers read from trusted load balancers,
    // and connections closed for their header, by reason.
    std::uint64_t proxy_headers_accepted = 0;
    std::uint64_t proxy_header_untrusted = 0;
    std::uint64_t proxy_header_missing = 0;
    std::uint64_t proxy_header_malformed = 0;
    std::uint64_t proxy_header_too_long = 0;
    std::uint64_t proxy_header_timeout = 0;
    std::uint64_t proxy_header_closed_early = 0;
    std::uint64_t proxy_header_too_many = 0;
    // Multiplexing listeners (tcp_listener.h): connections by what their first bytes were,
    // connections closed for them by reason, and those passed to an upstream.
    std::uint64_t mux_turn_tcp = 0;
    std::uint64_t mux_turn_tls = 0;
    std::uint64_t mux_upstream = 0;
    std::uint64_t mux_refused_unknown = 0;
    std::uint64_t mux_refused_malformed = 0;
    std::uint64_t mux_refused_too_long = 0;
    std::uint64_t mux_refused_timeout = 0;
    std::uint64_t mux_refused_closed_early = 0;
    std::uint64_t mux_refused_too_many = 0;
    std::uint64_t mux_upstream_unreachable = 0;
    std::uint64_t mux_upstream_full = 0;
    std::uint64_t mux_upstream_open = 0;
    // The kernel fast path (relay/xdp): what its program did with the UDP it saw, node-wide
    // (worker 0 reports them; the program is shared), by outcome...
    std::uint64_t fast_path_carried = 0;
    std::uint64_t fast_path_passed_over_allowance = 0;
    std::uint64_t fast_path_passed_not_udp = 0;
    std::uint64_t fast_path_passed_no_entry = 0;
    std::uint64_t fast_path_passed_expired = 0;
    std::uint64_t fast_path_passed_malformed = 0;
    std::uint64_t fast_path_passed_padded = 0;
    std::uint64_t fast_path_passed_no_server_ip = 0;
    std::uint64_t fast_path_passed_no_route = 0;
    std::uint64_t fast_path_passed_too_big = 0;
    std::uint64_t fast_path_passed_local = 0;
    std::uint64_t fast_path_media_ring_full = 0;
    // ...and, per worker, allocations it carries channels of now and offers it could not
    // take (its slots or maps full).
    std::uint64_t fast_path_allocations = 0;
    std::uint64_t fast_path_offers_refused = 0;
};

namespace io_counter_detail {
using Row = CounterRow<IoCounters>;
using I = IoCounters;
constexpr auto counter = CounterKind::counter;
constexpr std::string_view dropped = "hearth_dropped_packets_total";
constexpr std::string_view dropped_help = "Packets and requests dropped, by reason.";
constexpr std::string_view closed = "hearth_connections_closed_total";
constexpr std::string_view closed_help =
    "TCP and TLS connections closed before making an allocation, by reason.";
constexpr std::string_view proxy_refused = "hearth_proxy_header_refused_total";
constexpr std::string_view proxy_refused_help =
    "TCP and TLS connections closed for their PROXY header, by reason: untrusted (one from "
    "an address outside listen.proxy_protocol_from), missing, malformed, too_long, timeout, "
    "closed_early (by the proxy, before the header ended), too_many (headers awaited).";
constexpr std::string_view mux = "hearth_mux_connections_total";
constexpr std::string_view mux_help =
    "Connections on multiplexing listeners (listen.mux), by what their first bytes were: "
    "turn_tcp, turn_tls, upstream (TLS naming one of mux.upstreams, passed on).";
constexpr std::string_view mux_refused = "hearth_mux_refused_total";
constexpr std::string_view mux_refused_help =
    "Connections on multiplexing listeners closed for their first bytes, by reason: unknown "
    "(neither TURN nor TLS), malformed (a broken ClientHello), too_long, timeout (said too "
    "little in time), closed_early, too_many (connections awaited at once).";
constexpr std::string_view mux_failed = "hearth_mux_upstream_failures_total";
constexpr std::string_view mux_failed_help =
    "Connections for an upstream closed without reaching it, by reason: unreachable (refused, "
    "failed or no answer in 5 s), full (mux.max_upstream_connections open).";
constexpr std::string_view descriptors = "hearth_out_of_descriptors_total";
constexpr std::string_view descriptors_help =
    "Times a file descriptor was wanted and none was left: an accept paused, or a relay "
    "socket refused (the Allocate got 508).";
constexpr std::string_view fast_path = "hearth_fast_path_packets_total";
constexpr std::string_view fast_path_help =
    "UDP datagrams the XDP fast path saw, by outcome: carried (relayed in the kernel), or "
    "passed to userspace: over_allowance (the bytes granted from the bandwidth budgets "
    "spent: userspace applies them), not_udp (a fragment, IP options, an IPv6 "
    "extension header), no_entry (not a channel it was given), expired, malformed, padded "
    "(ChannelData with padding), no_server_ip, no_route, too_big, local (to this host: another "
    "allocation's relayed "
    "address); media_ring_full counts "
    "carried datagrams whose RTP header fields the worker missed.";
}  // namespace io_counter_detail

inline constexpr std::array io_counter_rows = [] {
    using namespace io_counter_detail;
    return std::array{
        Row{"dropped.not_stun", dropped, R"(reason="not_stun")", counter, dropped_help,
            &I::udp_dropped_not_stun},
        Row{"dropped.not_stun", dropped, R"(reason="not_stun")", counter, dropped_help,
            &I::stream_dropped_not_stun},
        Row{"dropped.malformed", dropped, R"(reason="malformed")", counter, dropped_help,
            &I::dropped_malformed},
        Row{"dropped.truncated", dropped, R"(reason="truncated")", counter, dropped_help,
            &I::udp_dropped_truncated},
        Row{"dropped.queue_full", dropped, R"(reason="queue_full")", counter, dropped_help,
            &I::stream_dropped_output_full},
        Row{"dropped.send_failed", dropped, R"(reason="send_failed")", counter, dropped_help,
            &I::udp_send_failures},
        Row{"dropped.send_failed", dropped, R"(reason="send_failed")", counter, dropped_help,
            &I::relay_send_failures},
        Row{"dropped.store_queue_full", dropped, R"(reason="store_queue_full")", counter,
            dropped_help, &I::requests_dropped_waiting_for_store},
        Row{"requests_parked", "hearth_requests_parked_total", "", counter,
            "Requests that waited for the session store's answer.", &I::requests_parked},
        Row{"requests_resumed", "hearth_requests_resumed_total", "", counter,
            "Parked requests handed in again when the store answered their question.",
            &I::requests_resumed},
        Row{"tls_handshake_failures", "hearth_tls_handshake_failures_total", "", counter,
            "TLS handshakes that failed or timed out.", &I::tls_handshake_failures},
        Row{"connections_closed.no_allocation_in_time", closed, R"(reason="no_allocation_in_time")",
            counter, closed_help, &I::stream_closed_no_allocation},
        Row{"connections_closed.unauthenticated_frame", closed, R"(reason="unauthenticated_frame")",
            counter, closed_help, &I::stream_closed_unauthenticated_frame},
        Row{"connections_closed.evicted_unauthenticated", closed,
            R"(reason="evicted_unauthenticated")", counter, closed_help,
            &I::stream_evicted_unauthenticated},
        Row{"tcp_peer_connections_refused", "hearth_tcp_peer_connections_refused_total", "",
            counter, "RFC 6062 peer connections refused for want of a permission.",
            &I::tcp_peer_refused_without_permission},
        Row{"tcp_peer_bind_timeouts", "hearth_tcp_peer_bind_timeouts_total", "", counter,
            "RFC 6062 peer connections closed unbound after 30 s.", &I::tcp_peer_bind_timeouts},
        Row{"tcp_relay_bandwidth_pauses", "hearth_tcp_relay_bandwidth_pauses_total", "", counter,
            "Times an RFC 6062 connection stopped reading until its allocation's or session's "
            "bandwidth budget refilled (delayed, not dropped).",
            &I::tcp_relay_bandwidth_pauses},
        Row{"out_of_descriptors.accept", descriptors, R"(where="accept")", counter,
            descriptors_help, &I::accept_out_of_descriptors},
        Row{"out_of_descriptors.relay_socket", descriptors, R"(where="relay_socket")", counter,
            descriptors_help, &I::relay_out_of_descriptors},
        Row{"proxy_headers_accepted", "hearth_proxy_headers_accepted_total", "", counter,
            "PROXY headers read from trusted load balancers (listen.proxy_protocol_from).",
            &I::proxy_headers_accepted},
        Row{"proxy_header_refused.untrusted", proxy_refused, R"(reason="untrusted")", counter,
            proxy_refused_help, &I::proxy_header_untrusted},
        Row{"proxy_header_refused.missing", proxy_refused, R"(reason="missing")", counter,
            proxy_refused_help, &I::proxy_header_missing},
        Row{"proxy_header_refused.malformed", proxy_refused, R"(reason="malformed")", counter,
            proxy_refused_help, &I::proxy_header_malformed},
        Row{"proxy_header_refused.too_long", proxy_refused, R"(reason="too_long")", counter,
            proxy_refused_help, &I::proxy_header_too_long},
        Row{"proxy_header_refused.timeout", proxy_refused, R"(reason="timeout")", counter,
            proxy_refused_help, &I::proxy_header_timeout},
        Row{"proxy_header_refused.closed_early", proxy_refused, R"(reason="closed_early")", counter,
            proxy_refused_help, &I::proxy_header_closed_early},
        Row{"proxy_header_refused.too_many", proxy_refused, R"(reason="too_many")", counter,
            proxy_refused_help, &I::proxy_header_too_many},
        Row{"mux.turn_tcp", mux, R"(kind="turn_tcp")", counter, mux_help, &I::mux_turn_tcp},
        Row{"mux.turn_tls", mux, R"(kind="turn_tls")", counter, mux_help, &I::mux_turn_tls},
        Row{"mux.upstream", mux, R"(kind="upstream")", counter, mux_help, &I::mux_upstream},
        Row{"mux_refused.unknown", mux_refused, R"(reason="unknown")", counter, mux_refused_help,
            &I::mux_refused_unknown},
        Row{"mux_refused.malformed", mux_refused, R"(reason="malformed")", counter,
            mux_refused_help, &I::mux_refused_malformed},
        Row{"mux_refused.too_long", mux_refused, R"(reason="too_long")", counter, mux_refused_help,
            &I::mux_refused_too_long},
        Row{"mux_refused.timeout", mux_refused, R"(reason="timeout")", counter, mux_refused_help,
            &I::mux_refused_timeout},
        Row{"mux_refused.closed_early", mux_refused, R"(reason="closed_early")", counter,
            mux_refused_help, &I::mux_refused_closed_early},
        Row{"mux_refused.too_many", mux_refused, R"(reason="too_many")", counter, mux_refused_help,
            &I::mux_refused_too_many},
        Row{"mux_upstream_failures.unreachable", mux_failed, R"(reason="unreachable")", counter,
            mux_failed_help, &I::mux_upstream_unreachable},
        Row{"mux_upstream_failures.full", mux_failed, R"(reason="full")", counter, mux_failed_help,
            &I::mux_upstream_full},
        Row{"mux_upstream_open", "hearth_mux_upstream_connections", "", CounterKind::gauge,
            "Connections passed to an upstream and open now.", &I::mux_upstream_open},
        Row{"fast_path.carried", fast_path, R"(outcome="carried")", counter, fast_path_help,
            &I::fast_path_carried},
        Row{"fast_path.passed_over_allowance", fast_path, R"(outcome="passed_over_allowance")",
            counter, fast_path_help, &I::fast_path_passed_over_allowance},
        Row{"fast_path.passed_not_udp", fast_path, R"(outcome="passed_not_udp")", counter,
            fast_path_help, &I::fast_path_passed_not_udp},
        Row{"fast_path.passed_no_entry", fast_path, R"(outcome="passed_no_entry")", counter,
            fast_path_help, &I::fast_path_passed_no_entry},
        Row{"fast_path.passed_expired", fast_path, R"(outcome="passed_expired")", counter,
            fast_path_help, &I::fast_path_passed_expired},
        Row{"fast_path.passed_malformed", fast_path, R"(outcome="passed_malformed")", counter,
            fast_path_help, &I::fast_path_passed_malformed},
        Row{"fast_path.passed_padded", fast_path, R"(outcome="passed_padded")", counter,
            fast_path_help, &I::fast_path_passed_padded},
        Row{"fast_path.passed_no_server_ip", fast_path, R"(outcome="passed_no_server_ip")", counter,
            fast_path_help, &I::fast_path_passed_no_server_ip},
        Row{"fast_path.passed_no_route", fast_path, R"(outcome="passed_no_route")", counter,
            fast_path_help, &I::fast_path_passed_no_route},
        Row{"fast_path.passed_too_big", fast_path, R"(outcome="passed_too_big")", counter,
            fast_path_help, &I::fast_path_passed_too_big},
        Row{"fast_path.passed_local", fast_path, R"(outcome="passed_local")", counter,
            fast_path_help, &I::fast_path_passed_local},
        Row{"fast_path.media_ring_full", fast_path, R"(outcome="media_ring_full")", counter,
            fast_path_help, &I::fast_path_media_ring_full},
        Row{"fast_path.allocations", "hearth_fast_path_allocations", "", CounterKind::gauge,
            "Allocations the fast path carries channels of now.", &I::fast_path_allocations},
        Row{"fast_path.offers_refused", "hearth_fast_path_offers_refused_total", "", counter,
            "Channels the fast path could not take (its slots or maps full): they stay in "
            "userspace.",
            &I::fast_path_offers_refused},
    };
}();

}  // namespace hearth::relay
