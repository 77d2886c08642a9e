#include "relay/net/worker.h"

#include <spdlog/spdlog.h>

#include "relay/net/own_addresses.h"
#include "relay/net/tcp_listener.h"
#include "relay/net/udp_listener.h"

namespace hearth::relay {

namespace {

auth::SecretRing ring_of(const config::Config& config) {
    auth::SecretRing ring;
    for (const auto& secret : config.secrets) {
        ring.add({secret.name, secret.value});
    }
    return ring;
}

turn::ServerSettings settings_of(const config::Config& config) {
    turn::ServerSettings settings;
    settings.software = config.software;
    settings.lifetime_default = config.allocation_lifetime_default;
    settings.lifetime_max = config.allocation_lifetime_max;
    settings.max_permissions_per_allocation = config.max_permissions_per_allocation;
    settings.max_channels_per_allocation = config.max_channels_per_allocation;
    settings.unauthenticated_requests_per_second = config.unauthenticated_requests_per_second;
    settings.allocate_requests_per_second = config.allocate_requests_per_second;
    settings.upkeep_requests_per_second = config.upkeep_requests_per_second;
    settings.allocation_bandwidth_bps = config.allocation_bandwidth_bps;
    return settings;
}

turn::PeerPolicy peer_policy_of(const config::Config& config) {
    turn::PeerPolicy policy(config.peer_allow);
    for (const auto& address : own_addresses(config, host_addresses())) {
        policy.add_own_address(address);
    }
    return policy;
}

}  // namespace

Worker::Worker(unsigned index, const config::Config& config, SharedState& shared,
               SslContextPointer tls_context)
    : index_(index),
      shared_(shared),
      stream_limits_{config.stream_output_buffer_bytes, config.stream_idle_timeout,
                     config.tls_handshake_timeout},
      base_(event_base_new()),
      authenticator_(
          config.realm, ring_of(config), shared.nonce_key, config.nonce_lifetime,
          *shared.session_store,
          [this](std::function<void()> task) {
              post([task = std::move(task)](Worker&) { task(); });
          },
          [this] { hand_in_set_aside(); }),
      events_(index),
      relay_sockets_(*this, config.relay_ipv4, config.relay_ipv6,
                     RelayPortRange{config.relay_port_min, config.relay_port_max}, shared.tcp_ports,
                     config.stream_output_buffer_bytes),
      tls_context_(std::move(tls_context)),
      peer_buffers_(peer_batch * peer_buffer_size) {
    // Allocation IDs stay unique across workers: the worker index in the top bits.
    server_ = std::make_unique<turn::TurnServer>(
        settings_of(config), peer_policy_of(config), authenticator_, relay_sockets_, events_,
        shared.limits, (static_cast<std::uint64_t>(index) << 48) + 1);
    expiry_timer_ = event_new(base_, -1, EV_PERSIST, &Worker::on_expiry_timer, this);
    tasks_ = std::make_unique<TaskQueue>(base_);
    const timeval every_second{1, 0};
    event_add(expiry_timer_, &every_second);
}

Worker::~Worker() {
    // Everything holding an event goes before the base it belongs to.
    tcp_listeners_.clear();
    udp_listeners_.clear();
    server_.reset();
    tasks_.reset();
    event_free(expiry_timer_);
    event_base_free(base_);
}

bool Worker::open_listeners(const config::Config& config, std::string& error) {
    for (const auto& address : config.listen_udp) {
        auto listener = std::make_unique<UdpListener>(*this, address);
        if (!listener->open(error)) {
            return false;
        }
        udp_listeners_.push_back(std::move(listener));
    }
    for (const auto& [addresses, transport] :
         {std::pair{&config.listen_tcp, turn::ClientTransport::tcp},
          std::pair{&config.listen_tls, turn::ClientTransport::tls}}) {
        for (const auto& address : *addresses) {
            auto listener = std::make_unique<TcpListener>(*this, address, transport);
            if (!listener->open(error)) {
                return false;
            }
            tcp_listeners_.push_back(std::move(listener));
        }
    }
    return true;
}

void Worker::post(std::function<void(Worker&)> task) {
    tasks_->post([this, task = std::move(task)] { task(*this); });
}

WorkerSnapshot Worker::snapshot() {
    WorkerSnapshot snapshot;
    snapshot.worker_index = index_;
    snapshot.counters = server_->counters();
    auto& io = snapshot.io;
    for (const auto& listener : udp_listeners_) {
        io.udp_dropped_not_stun += listener->dropped_not_stun();
        io.udp_dropped_malformed += listener->dropped_malformed();
        io.udp_dropped_truncated += listener->dropped_truncated();
        io.udp_send_failures += listener->send_failures();
    }
    for (const auto& listener : tcp_listeners_) {
        io.stream_dropped_not_stun += listener->dropped_not_stun;
        io.stream_dropped_malformed += listener->dropped_malformed;
        io.stream_dropped_output_full += listener->dropped_output_full;
        io.tls_handshake_failures += listener->tls_handshake_failures;
        io.accept_out_of_descriptors += listener->accept_out_of_descriptors;
    }
    io.relay_send_failures = relay_sockets_.send_failures();
    io.accept_out_of_descriptors += relay_sockets_.tcp_relay().accept_out_of_descriptors;
    io.relay_out_of_descriptors = relay_sockets_.out_of_descriptors();
    io.requests_dropped_waiting_for_store = set_aside_dropped_;
    io.tcp_peer_refused_without_permission = relay_sockets_.tcp_relay().refused_without_permission;
    io.tcp_peer_bind_timeouts = relay_sockets_.tcp_relay().bind_timeouts;
    io.tcp_relay_bandwidth_pauses = relay_sockets_.tcp_relay().bandwidth_pauses;
    const auto now = this->now().monotonic;
    server_->for_each_allocation([&](const turn::Allocation& allocation) {
        AllocationSnapshot entry;
        entry.id = allocation.id();
        entry.session_id = allocation.owner().session_id;
        entry.user_id = allocation.owner().user_id;
        entry.client = allocation.five_tuple().client.to_string();
        entry.transport = turn::to_string(allocation.five_tuple().transport);
        for (const auto* relay : {allocation.relay_for(AddressFamily::ipv4),
                                  allocation.relay_for(AddressFamily::ipv6)}) {
            if (relay != nullptr) {
                entry.relayed.push_back(relay->address.to_string());
            }
        }
        entry.age_seconds =
            std::chrono::duration_cast<std::chrono::seconds>(now - allocation.created).count();
        entry.lifetime_remaining_seconds =
            std::chrono::duration_cast<std::chrono::seconds>(allocation.expires - now).count();
        entry.permissions = allocation.permission_count();
        entry.channels = allocation.channel_count();
        entry.client_to_peer = allocation.client_to_peer;
        entry.peer_to_client = allocation.peer_to_client;
        const auto second = turn::second_of(now);
        entry.client_to_peer_bps = allocation.client_to_peer_media.rate().bits_per_second(second);
        entry.peer_to_client_bps = allocation.peer_to_client_media.rate().bits_per_second(second);
        entry.client_to_peer_media = allocation.client_to_peer_media.media();
        entry.peer_to_client_media = allocation.peer_to_client_media.media();
        const auto& up = entry.client_to_peer_media;
        const auto& down = entry.peer_to_client_media;
        const double expected = static_cast<double>(up.rtp_expected + down.rtp_expected);
        const double lost = static_cast<double>(std::max<std::int64_t>(up.rtp_lost, 0) +
                                                std::max<std::int64_t>(down.rtp_lost, 0));
        const double packets = static_cast<double>(allocation.client_to_peer.packets +
                                                   allocation.peer_to_client.packets);
        const double dropped = static_cast<double>(allocation.client_to_peer.dropped() +
                                                   allocation.peer_to_client.dropped());
        entry.quality =
            turn::quality_score(expected > 0 ? lost / expected : 0.0,
                                std::max(up.jitter_milliseconds, down.jitter_milliseconds),
                                packets + dropped > 0 ? dropped / (packets + dropped) : 0.0);
        snapshot.allocations.push_back(std::move(entry));
    });
    return snapshot;
}

void Worker::apply_config(const config::Config& config) {
    server_->apply(settings_of(config), peer_policy_of(config));
}

void Worker::run() {
    // A turn of the loop at a time: what the turn queued for UDP clients leaves in one
    // sendmmsg per listener at its end (UdpSendBatch), before the loop sleeps again.
    while (!event_base_got_exit(base_) && !event_base_got_break(base_)) {
        const int result = event_base_loop(base_, EVLOOP_ONCE);
        for (auto& listener : udp_listeners_) {
            listener->flush_sends();
        }
        if (result < 0) {
            spdlog::error("worker {}: event loop failed", index_);
            return;
        }
        if (result > 0) {
            return;  // nothing left to wait for
        }
    }
}

void Worker::set_aside(stun::Bytes request, const turn::FiveTuple& tuple, ClientLink& link) {
    if (set_aside_.size() >= max_set_aside) {
        ++set_aside_dropped_;
        return;  // the client retransmits; nothing grows without bound
    }
    set_aside_.push_back({{request.begin(), request.end()}, tuple, &link});
}

void Worker::forget_requests_of(const ClientLink& link) {
    std::erase_if(set_aside_, [&link](const SetAside& entry) { return entry.link == &link; });
}

void Worker::hand_in_set_aside() {
    // Every waiting request goes in again; those still waiting are set aside anew.
    auto waiting = std::move(set_aside_);
    set_aside_.clear();
    for (auto& entry : waiting) {
        entry.link->hand_in(entry.tuple, entry.request);
    }
}

void Worker::stop() {
    event_base_loopexit(base_, nullptr);
}

turn::Now Worker::now() const {
    timeval wall;
    event_base_gettimeofday_cached(base_, &wall);
    return turn::Now{turn::Clock::now(), wall.tv_sec};
}

void Worker::on_expiry_timer(evutil_socket_t, short, void* context) {
    auto* self = static_cast<Worker*>(context);
    self->server_->expire(self->now());
    self->authenticator_.forget_unclaimed_answers(self->now().monotonic);
}

}  // namespace hearth::relay
