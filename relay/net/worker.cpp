#include "relay/net/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "relay/net/own_addresses.h"
#include "relay/net/tcp_listener.h"
#include "relay/net/udp_listener.h"
#include "relay/xdp/fast_path_program.h"

namespace hearth::relay {

namespace {

auth::SecretRing ring_of(const config::Config& config) {
    auth::SecretRing ring;
    for (const auto& secret : config.auth.secrets) {
        ring.add({secret.name, secret.value});
    }
    return ring;
}

turn::ServerSettings settings_of(const config::Config& config) {
    turn::ServerSettings settings;
    settings.software = config.software;
    settings.lifetime_default = config.limits.allocation_lifetime_default;
    settings.lifetime_max = config.limits.allocation_lifetime_max;
    settings.max_permissions_per_allocation = config.limits.max_permissions_per_allocation;
    settings.max_channels_per_allocation = config.limits.max_channels_per_allocation;
    settings.unauthenticated_requests_per_second =
        config.limits.unauthenticated_requests_per_second;
    settings.allocate_requests_per_second = config.limits.allocate_requests_per_second;
    settings.upkeep_requests_per_second = config.limits.upkeep_requests_per_second;
    settings.allocation_bandwidth_bps = config.limits.allocation_bandwidth_bps;
    settings.tcp_allocations = config.relay.tcp_allocations;
    settings.tcp_denied_ports = tcp_denied_ports(config);
    settings.rejoin_idle = config.limits.rejoin_idle_seconds;
    settings.advertised = {config.relay.external_ipv4, config.relay.external_ipv6};
    return settings;
}

StreamLimits stream_limits_of(const config::Config& config, unsigned workers) {
    return {config.limits.stream_output_buffer_bytes,
            config.limits.stream_idle_timeout,
            config.limits.tls_handshake_timeout,
            config.limits.unauthenticated_connection_timeout,
            config.listen.proxy_protocol_from,
            config.mux.upstreams,
            (config.mux.max_upstream_connections + workers - 1) / std::max(workers, 1U)};
}

turn::PeerPolicy peer_policy_of(const config::Config& config, const turn::LiveRelayedPorts& live) {
    turn::PeerPolicy policy(config.peer_policy.allow);
    for (const auto& address : own_addresses(config, host_addresses())) {
        policy.add_own_address(address);
    }
    for (const auto port : service_ports(config)) {
        policy.add_service_port(port);
    }
    // The public addresses too: behind a 1:1 NAT they lead to the same ports.
    for (const auto& relay : {config.relay.ipv4, config.relay.ipv6, config.relay.external_ipv4,
                              config.relay.external_ipv6}) {
        if (relay) {
            policy.add_relayed_range(*relay, config.relay.port_min, config.relay.port_max, live);
        }
    }
    return policy;
}

}  // namespace

Worker::Worker(unsigned index, const config::Config& config, SharedState& shared,
               SslContextPointer tls_context, DataConnectionRouter& other_workers)
    : index_(index),
      base_(event_base_new()),
      clock_(base_.get()),
      tasks_(base_.get()),
      stream_limits_(stream_limits_of(config, shared.worker_count)),
      tls_context_(std::move(tls_context)),
      authenticator_(
          config.realm, ring_of(config), shared.nonce_key, config.limits.nonce_lifetime,
          *shared.session_store,
          [this](std::function<void()> task) { tasks_.post(std::move(task)); },
          [this](const turn::StoreQuestion& question) {
              dispatcher_.resume(question, clock_.now());
          }),
      events_(index, shared.audit, shared.records),
      tcp_relay_(base_.get(), clock_, index, shared.tcp_ports, stream_limits_),
      relay_sockets_(base_.get(), clock_, config.relay.ipv4, config.relay.ipv6,
                     RelayPortRange{config.relay.port_min, config.relay.port_max}, tcp_relay_,
                     shared.tcp_ports, shared.relayed_ports),
      fast_path_(shared.fast_path == nullptr ? nullptr
                                             : std::make_unique<xdp::FastPathChannels>(
                                                   *shared.fast_path, index, shared.worker_count)),
      // Allocation IDs stay unique across workers: the worker index in the top bits.
      server_(settings_of(config), peer_policy_of(config, relay_sockets_.live_ports()),
              authenticator_, relay_sockets_, events_, shared.limits,
              (static_cast<std::uint64_t>(index) << allocation_id_shift) + 1),
      dispatcher_(server_, relay_sockets_, ParkedRequests::Limits{}),
      housekeeping_timer_(event_new(base_.get(), -1, EV_PERSIST, &Worker::on_housekeeping, this)) {
    relay_sockets_.attach(server_);
    tcp_relay_.attach(server_);
    stream_parts_ = StreamParts{base_.get(),
                                &tasks_,
                                &clock_,
                                &dispatcher_,
                                &shared.connections,
                                &unauthenticated_connections_,
                                &stream_limits_,
                                &tls_context_,
                                &tcp_relay_,
                                &other_workers,
                                index,
                                shared.worker_count};
    const timeval every_second{1, 0};
    event_add(housekeeping_timer_.get(), &every_second);
    if (fast_path_) {
        server_.set_fast_path(fast_path_.get());
        // The media ring holds about 32 000 records: read it often enough that a busy
        // worker's never fills (hearth_fast_path_packets_total{outcome="media_ring_full"});
        // and top up what the program may carry within the bandwidth budgets.
        fast_path_timer_.reset(
            event_new(base_.get(), -1, EV_PERSIST, &Worker::on_fast_path_tick, this));
        const timeval every_20_ms{0, 20'000};
        event_add(fast_path_timer_.get(), &every_20_ms);
    }
}

Worker::~Worker() = default;

bool Worker::open_listeners(const config::Config& config, std::string& error) {
    for (const auto& address : config.listen.udp) {
        auto listener = std::make_unique<UdpListener>(base_.get(), clock_, dispatcher_, address);
        if (!listener->open(error)) {
            return false;
        }
        udp_listeners_.push_back(std::move(listener));
    }
    for (const auto& [addresses, kind] : {std::pair{&config.listen.tcp, ListenerKind::tcp},
                                          std::pair{&config.listen.tls, ListenerKind::tls},
                                          std::pair{&config.listen.mux, ListenerKind::mux}}) {
        for (const auto& address : *addresses) {
            auto listener = std::make_unique<TcpListener>(stream_parts_, address, kind);
            if (!listener->open(error)) {
                return false;
            }
            tcp_listeners_.push_back(std::move(listener));
        }
    }
    return true;
}

void Worker::run() {
    if (event_base_dispatch(base_.get()) < 0) {
        spdlog::error("worker {}: event loop failed", index_);
    }
}

void Worker::stop() {
    event_base_loopexit(base_.get(), nullptr);
}

void Worker::post(std::function<void(Worker&)> task) {
    tasks_.post([this, task = std::move(task)] { task(*this); });
}

// Everything of `config` a worker holds, derived as the constructor derives it.
void Worker::apply_config(const config::Config& config) {
    server_.apply(settings_of(config), peer_policy_of(config, relay_sockets_.live_ports()));
    authenticator_.configure(config.realm, config.limits.nonce_lifetime);
    stream_limits_ = stream_limits_of(config, stream_parts_.worker_count);
}

void Worker::set_draining(bool draining, std::optional<turn::Redirect> redirect) {
    server_.set_draining(draining, std::move(redirect));
}

std::size_t Worker::delete_session_allocations(const std::string& session_id,
                                               const std::string& user_id) {
    return server_.delete_where_session(session_id, user_id, turn::DeleteReason::revoked);
}

void Worker::route_replacements(std::function<void(turn::AllocationId)> replace_elsewhere) {
    server_.set_replace_elsewhere(std::move(replace_elsewhere));
}

bool Worker::delete_replaced(turn::AllocationId id) {
    return server_.delete_replaced(id);
}

std::size_t Worker::delete_allocations_if(const std::function<bool(const turn::Owner&)>& doomed) {
    std::vector<turn::Owner> owners;
    server_.for_each_allocation([&](const turn::Allocation& allocation) {
        if (doomed(allocation.owner())) {
            owners.push_back(allocation.owner());
        }
    });
    std::size_t deleted = 0;
    for (const auto& owner : owners) {
        deleted += delete_session_allocations(owner.session_id, owner.user_id);
    }
    return deleted;
}

// Every second: allocations, permissions and channels whose time ran out; store answers
// nobody came back for; requests that waited too long for the store.
void Worker::on_housekeeping(evutil_socket_t, short, void* context) {
    auto* self = static_cast<Worker*>(context);
    const turn::Now now = self->clock_.now();
    self->server_.expire(now);
    self->authenticator_.forget_unclaimed_answers(now.monotonic);
    self->dispatcher_.expire(now.monotonic);
}

void Worker::on_fast_path_tick(evutil_socket_t, short, void* context) {
    auto& fast_path = *static_cast<Worker*>(context)->fast_path_;
    fast_path.drain_media();
    fast_path.top_up_allowances(turn::Clock::now());
}

WorkerSnapshot Worker::snapshot() {
    server_.collect_fast_path();  // what the kernel carried, in the counters shown
    WorkerSnapshot snapshot;
    snapshot.worker_index = index_;
    snapshot.counters = server_.counters();
    auto& io = snapshot.io;
    const auto& dispatch = dispatcher_.counters();
    io.udp_dropped_not_stun = dispatch.udp_not_stun;
    io.dropped_malformed = dispatch.malformed;
    io.requests_parked = dispatch.parked;
    io.requests_resumed = dispatch.resumed;
    io.requests_dropped_waiting_for_store = dispatch.parked_dropped + dispatch.parked_expired;
    for (const auto& listener : udp_listeners_) {
        io.udp_dropped_truncated += listener->dropped_truncated();
        io.udp_send_failures += listener->send_failures();
    }
    for (const auto& listener : tcp_listeners_) {
        io.stream_dropped_not_stun += listener->counters().not_stun;
        io.stream_dropped_output_full += listener->counters().output_full;
        io.tls_handshake_failures += listener->counters().tls_handshake_failures;
        io.stream_closed_no_allocation += listener->counters().no_allocation_in_time;
        io.stream_closed_unauthenticated_frame += listener->counters().unauthenticated_frames;
        io.stream_evicted_unauthenticated += listener->counters().evicted_unauthenticated;
        io.accept_out_of_descriptors += listener->accept_out_of_descriptors();
        io.proxy_header_untrusted += listener->counters().proxy_header_untrusted;
        const auto& proxy = listener->proxy_header_counters();
        io.proxy_headers_accepted += proxy.accepted;
        io.proxy_header_missing += proxy.missing;
        io.proxy_header_malformed += proxy.malformed;
        io.proxy_header_too_long += proxy.too_long;
        io.proxy_header_timeout += proxy.timeout;
        io.proxy_header_closed_early += proxy.closed_early;
        io.proxy_header_too_many += proxy.too_many;
        const auto mux = listener->mux_counters();
        io.mux_turn_tcp += mux.turn_tcp;
        io.mux_turn_tls += mux.turn_tls;
        io.mux_upstream += mux.upstream;
        io.mux_refused_unknown += mux.unknown;
        io.mux_refused_malformed += mux.malformed;
        io.mux_refused_too_long += mux.too_long;
        io.mux_refused_timeout += mux.opening.timeout;
        io.mux_refused_closed_early += mux.opening.closed_early;
        io.mux_refused_too_many += mux.opening.too_many;
        io.mux_upstream_unreachable += mux.splices.unreachable;
        io.mux_upstream_full += mux.splices.full;
        io.mux_upstream_open += mux.upstream_open;
    }
    if (fast_path_) {
        io.fast_path_allocations = fast_path_->carried_allocations();
        io.fast_path_offers_refused = fast_path_->offers_refused();
    }
    if (fast_path_ && index_ == 0) {  // the program's counters are the node's: once
        const auto outcomes = fast_path_->program().read_outcomes();
        io.fast_path_carried = outcomes[HEARTH_FP_CARRIED];
        io.fast_path_passed_over_allowance = outcomes[HEARTH_FP_PASS_OVER_ALLOWANCE];
        io.fast_path_passed_not_udp = outcomes[HEARTH_FP_PASS_NOT_UDP];
        io.fast_path_passed_no_entry = outcomes[HEARTH_FP_PASS_NO_ENTRY];
        io.fast_path_passed_expired = outcomes[HEARTH_FP_PASS_EXPIRED];
        io.fast_path_passed_malformed = outcomes[HEARTH_FP_PASS_MALFORMED];
        io.fast_path_passed_padded = outcomes[HEARTH_FP_PASS_PADDED];
        io.fast_path_passed_no_server_ip = outcomes[HEARTH_FP_PASS_NO_SERVER_IP];
        io.fast_path_passed_no_route = outcomes[HEARTH_FP_PASS_NO_ROUTE];
        io.fast_path_passed_too_big = outcomes[HEARTH_FP_PASS_TOO_BIG];
        io.fast_path_passed_local = outcomes[HEARTH_FP_PASS_LOCAL];
        io.fast_path_media_ring_full = outcomes[HEARTH_FP_MEDIA_RING_FULL];
    }
    io.relay_send_failures = relay_sockets_.send_failures();
    io.relay_out_of_descriptors = relay_sockets_.out_of_descriptors();
    io.accept_out_of_descriptors += tcp_relay_.accept_out_of_descriptors;
    io.tcp_peer_refused_without_permission = tcp_relay_.refused_without_permission;
    io.tcp_peer_bind_timeouts = tcp_relay_.bind_timeouts;
    io.tcp_relay_bandwidth_pauses = tcp_relay_.bandwidth_pauses;
    const auto now = clock_.now().monotonic;
    server_.for_each_allocation([&](const turn::Allocation& allocation) {
        snapshot.allocations.push_back(snapshot_of(allocation, now));
    });
    return snapshot;
}

}  // namespace hearth::relay
