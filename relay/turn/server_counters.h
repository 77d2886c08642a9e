#pragma once

// What one worker's state machine counts, with its table (counter_table.h). Plain
// integers: only the owning worker writes them; a snapshot is taken on that worker's
// thread and summed over the workers by the table.

#include <array>
#include <cstdint>

#include "relay/turn/allocation_histograms.h"
#include "relay/turn/authenticator.h"
#include "relay/turn/counter_table.h"
#include "relay/turn/direction_counters.h"

namespace hearth::turn {

struct ServerCounters {
    std::uint64_t binding_requests = 0;
    std::uint64_t allocations_created = 0;
    std::uint64_t allocations_deleted = 0;
    std::uint64_t allocations_replaced = 0;  // rejoin: idle, their slot given to a new one
    std::uint64_t error_responses = 0;
    std::uint64_t auth_failures = 0;
    std::uint64_t auth_failure_missing_integrity = 0;
    std::uint64_t auth_failure_missing_attributes = 0;
    std::uint64_t auth_failure_wrong_realm = 0;
    std::uint64_t auth_failure_stale_nonce = 0;
    std::uint64_t auth_failure_bid_down = 0;
    std::uint64_t auth_failure_unknown_userhash = 0;
    std::uint64_t auth_failure_malformed_username = 0;
    std::uint64_t auth_failure_expired_username = 0;
    std::uint64_t auth_failure_bad_integrity = 0;
    std::uint64_t peer_policy_refusals = 0;
    std::uint64_t tcp_allocations_refused = 0;  // 442: relay.tcp_allocations is off
    std::uint64_t tcp_connect_denied_port = 0;  // 403: relay.tcp_denied_ports or the admin port
    std::uint64_t session_refusals = 0;
    std::uint64_t refreshes_without_store = 0;  // honoured while the session store was out
    std::uint64_t bans = 0;              // usernames banned from a source (source_ban_list.h)
    std::uint64_t source_throttles = 0;  // sources throttled after failing with many usernames
    std::uint64_t malformed_messages = 0;
    std::uint64_t rate_limited = 0;           // unauthenticated requests over the per-source limit
    std::uint64_t allocate_rate_limited = 0;  // authenticated Allocates over the per-source limit
    std::uint64_t upkeep_rate_limited = 0;    // Refresh, CreatePermission, ChannelBind, Connect
    std::uint64_t banned_drops = 0;           // requests with a username banned from their source
    std::uint64_t throttled_drops = 0;        // failures from a throttled source, unanswered
    std::uint64_t dropped_no_allocation = 0;
    std::uint64_t dropped_no_permission = 0;
    std::uint64_t dropped_no_channel = 0;
    std::uint64_t dropped_bandwidth = 0;  // over an allocation's or a session's token bucket
    // Traffic of allocations that have ended, by client transport (udp, tcp, tls): the
    // totals are these plus the counters of the allocations still alive.
    std::array<DirectionCounters, 3> retired_client_to_peer{};
    std::array<DirectionCounters, 3> retired_peer_to_client{};
    // Observed once per allocation, at its start or end (summed apart from the table).
    AllocationHistograms histograms;
};

// The counter of each AuthFailure, in the enum's order.
inline constexpr std::array<std::uint64_t ServerCounters::*, 9> auth_failure_counters{
    &ServerCounters::auth_failure_missing_integrity,
    &ServerCounters::auth_failure_missing_attributes,
    &ServerCounters::auth_failure_wrong_realm,
    &ServerCounters::auth_failure_stale_nonce,
    &ServerCounters::auth_failure_bid_down,
    &ServerCounters::auth_failure_unknown_userhash,
    &ServerCounters::auth_failure_malformed_username,
    &ServerCounters::auth_failure_expired_username,
    &ServerCounters::auth_failure_bad_integrity,
};
static_assert(auth_failure_counters.size() ==
              static_cast<std::size_t>(AuthFailure::bad_integrity) + 1);

namespace server_counter_detail {
using Row = CounterRow<ServerCounters>;
using S = ServerCounters;
constexpr auto counter = CounterKind::counter;
constexpr std::string_view auth_help = "Requests whose credentials failed, by reason.";
constexpr std::string_view dropped = "hearth_dropped_packets_total";
constexpr std::string_view dropped_help = "Packets and requests dropped, by reason.";
constexpr std::string_view answered_486 = "hearth_rate_limited_requests_total";
constexpr std::string_view answered_486_help =
    "Requests answered 486 (Allocation Quota Reached) for their source's request rate, by "
    "the limit reached: answered, not dropped.";
}  // namespace server_counter_detail

inline constexpr std::array server_counter_rows = [] {
    using namespace server_counter_detail;
    return std::array{
        Row{"binding_requests", "hearth_binding_requests_total", "", counter,
            "STUN Binding requests.", &S::binding_requests},
        Row{"allocations_created", "hearth_allocations_created_total", "", counter,
            "Allocations created.", &S::allocations_created},
        Row{"allocations_deleted", "hearth_allocations_deleted_total", "", counter,
            "Allocations deleted, any reason.", &S::allocations_deleted},
        Row{"allocations_replaced", "hearth_allocations_replaced_total", "", counter,
            "Idle allocations deleted past the per-user or the session's cap to admit the "
            "user's new one (limits.rejoin_idle_seconds).",
            &S::allocations_replaced},
        Row{"error_responses", "hearth_error_responses_total", "", counter, "Error responses sent.",
            &S::error_responses},
        Row{"auth_failures", "", "", counter, "", &S::auth_failures},
        Row{"auth_failure.missing_integrity", "hearth_auth_failures_total",
            R"(reason="missing_integrity")", counter, auth_help,
            &S::auth_failure_missing_integrity},
        Row{"auth_failure.missing_attributes", "hearth_auth_failures_total",
            R"(reason="missing_attributes")", counter, auth_help,
            &S::auth_failure_missing_attributes},
        Row{"auth_failure.wrong_realm", "hearth_auth_failures_total", R"(reason="wrong_realm")",
            counter, auth_help, &S::auth_failure_wrong_realm},
        Row{"auth_failure.stale_nonce", "hearth_auth_failures_total", R"(reason="stale_nonce")",
            counter, auth_help, &S::auth_failure_stale_nonce},
        Row{"auth_failure.bid_down", "hearth_auth_failures_total", R"(reason="bid_down")", counter,
            auth_help, &S::auth_failure_bid_down},
        Row{"auth_failure.unknown_userhash", "hearth_auth_failures_total",
            R"(reason="unknown_userhash")", counter, auth_help, &S::auth_failure_unknown_userhash},
        Row{"auth_failure.malformed_username", "hearth_auth_failures_total",
            R"(reason="malformed_username")", counter, auth_help,
            &S::auth_failure_malformed_username},
        Row{"auth_failure.expired_username", "hearth_auth_failures_total",
            R"(reason="expired_username")", counter, auth_help, &S::auth_failure_expired_username},
        Row{"auth_failure.bad_integrity", "hearth_auth_failures_total", R"(reason="bad_integrity")",
            counter, auth_help, &S::auth_failure_bad_integrity},
        Row{"bans", "hearth_source_bans_total", "", counter,
            "Usernames banned from a source address after repeated authentication failures.",
            &S::bans},
        Row{"source_throttles", "hearth_source_throttles_total", "", counter,
            "Source addresses throttled after authentication failures over many usernames: "
            "their credentials checked at the unauthenticated rate, their failures unanswered.",
            &S::source_throttles},
        Row{"peer_policy_refusals", "hearth_peer_policy_refusals_total", "", counter,
            "Peers refused by the policy.", &S::peer_policy_refusals},
        Row{"tcp_allocations_refused", "hearth_tcp_allocations_refused_total", "", counter,
            "RFC 6062 TCP allocations refused with 442: relay.tcp_allocations is off.",
            &S::tcp_allocations_refused},
        Row{"tcp_connect_denied_port", "hearth_tcp_connect_denied_port_total", "", counter,
            "RFC 6062 Connects refused with 403 for the peer's port (relay.tcp_denied_ports).",
            &S::tcp_connect_denied_port},
        Row{"session_refusals", "hearth_session_refusals_total", "", counter,
            "Allocations refused by the store.", &S::session_refusals},
        Row{"refreshes_without_store", "hearth_refreshes_without_store_total", "", counter,
            "Refreshes of existing allocations honoured while the session store could not "
            "answer.",
            &S::refreshes_without_store},
        Row{"dropped.no_allocation", dropped, R"(reason="no_allocation")", counter, dropped_help,
            &S::dropped_no_allocation},
        Row{"dropped.no_permission", dropped, R"(reason="no_permission")", counter, dropped_help,
            &S::dropped_no_permission},
        Row{"dropped.no_channel", dropped, R"(reason="no_channel")", counter, dropped_help,
            &S::dropped_no_channel},
        Row{"dropped.bandwidth", dropped, R"(reason="bandwidth")", counter, dropped_help,
            &S::dropped_bandwidth},
        Row{"dropped.malformed", dropped, R"(reason="malformed")", counter, dropped_help,
            &S::malformed_messages},
        Row{"dropped.rate_limit", dropped, R"(reason="rate_limit")", counter, dropped_help,
            &S::rate_limited},
        Row{"dropped.allocate_rate_limit", answered_486, R"(limit="allocate")", counter,
            answered_486_help, &S::allocate_rate_limited},
        Row{"dropped.upkeep_rate_limit", answered_486, R"(limit="upkeep")", counter,
            answered_486_help, &S::upkeep_rate_limited},
        Row{"dropped.banned_source", dropped, R"(reason="banned_source")", counter, dropped_help,
            &S::banned_drops},
        Row{"dropped.throttled_source", dropped, R"(reason="throttled_source")", counter,
            dropped_help, &S::throttled_drops},
    };
}();

}  // namespace hearth::turn
