#include "relay/net/tcp_relay.h"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "relay/net/descriptor_limit.h"
#include "relay/net/socket_options.h"
#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"

namespace hearth::relay {

namespace {

// How long a side paused for bandwidth waits before it is offered the budgets again.
const timeval bandwidth_retry{0, 10'000};

}  // namespace

struct TcpRelay::RelayedAddress {
    TcpRelay* relay = nullptr;
    turn::Allocation* allocation = nullptr;
    TransportAddress address;
    evconnlistener* listener = nullptr;
    std::size_t connection_count = 0;
};

struct TcpRelay::PeerConnection {
    enum class State { connecting, awaiting_bind, bound };
    TcpRelay* relay = nullptr;
    std::uint32_t id = 0;
    RelayedAddress* relayed = nullptr;
    TransportAddress peer;
    State state = State::connecting;
    bufferevent* peer_stream = nullptr;
    bufferevent* client_stream = nullptr;
    event* bind_timer = nullptr;
    // What each side is doing once bound, and the timer that resumes paused sides.
    struct Side {
        bool paused = false;  // not read until the bandwidth budgets refill
        bool closed = false;  // what it sent is still delivered, then both close
    };
    Side peer_side;
    Side client_side;
    event* resume_timer = nullptr;
    bool relayed_data = false;  // the audit trail's first use of the peer's permission
    stun::TransactionId connect_transaction{};
    stun::IntegrityKey key;

    // `stream` is one of the two; the other one, and the state of `stream`'s side.
    bufferevent* other_than(const bufferevent* stream) const {
        return stream == peer_stream ? client_stream : peer_stream;
    }
    Side& side_of(const bufferevent* stream) {
        return stream == peer_stream ? peer_side : client_side;
    }
};

TcpRelay::TcpRelay(event_base* base, const LoopClock& clock, unsigned worker_index,
                   TcpPortRegistry& ports, const StreamLimits& limits)
    : base_(base), clock_(clock), worker_index_(worker_index), ports_(ports), limits_(limits) {}

TcpRelay::~TcpRelay() {
    while (!addresses_.empty()) {
        close(addresses_.begin()->first);
    }
    if (accept_resume_timer_ != nullptr) {
        event_free(accept_resume_timer_);
    }
}

std::uint32_t TcpRelay::next_connection_id() {
    // The owning worker's index in the top byte: a ConnectionBind arriving on another
    // worker knows where to send the client's connection.
    for (;;) {
        connection_counter_ = (connection_counter_ + 1) & 0xFFFFFF;
        const std::uint32_t id = (worker_index_ << 24) | connection_counter_;
        if (connection_counter_ != 0 && !connections_.contains(id)) {
            return id;
        }
    }
}

TcpRelay::RelayedAddress* TcpRelay::open(int bound_fd, const TransportAddress& address,
                                         turn::Allocation& owner) {
    auto relayed = std::make_unique<RelayedAddress>();
    relayed->relay = this;
    relayed->allocation = &owner;
    relayed->address = address;
    relayed->listener = evconnlistener_new(base_, &TcpRelay::on_peer_accept, relayed.get(),
                                           LEV_OPT_CLOSE_ON_FREE, 16, bound_fd);
    if (relayed->listener == nullptr) {
        ::close(bound_fd);
        ports_.release(address.port);
        return nullptr;
    }
    evconnlistener_set_error_cb(relayed->listener, &TcpRelay::on_peer_accept_error);
    RelayedAddress* handle = relayed.get();
    addresses_.emplace(handle, std::move(relayed));
    return handle;
}

void TcpRelay::close(RelayedAddress* relayed) {
    std::vector<PeerConnection*> doomed;
    for (auto& [id, connection] : connections_) {
        if (connection->relayed == relayed) {
            doomed.push_back(connection.get());
        }
    }
    for (auto* connection : doomed) {
        remove_connection(connection);
    }
    evconnlistener_free(relayed->listener);
    std::erase(paused_accepting_, relayed);
    ports_.release(relayed->address.port);
    addresses_.erase(relayed);
}

TcpRelay::PeerConnection* TcpRelay::add_connection(RelayedAddress& relayed,
                                                   const TransportAddress& peer,
                                                   bufferevent* peer_stream) {
    auto connection = std::make_unique<PeerConnection>();
    connection->relay = this;
    connection->id = next_connection_id();
    connection->relayed = &relayed;
    connection->peer = peer;
    connection->peer_stream = peer_stream;
    connection->bind_timer = evtimer_new(base_, &TcpRelay::on_bind_timeout, connection.get());
    connection->resume_timer = evtimer_new(base_, &TcpRelay::on_resume_timer, connection.get());
    ++relayed.connection_count;
    PeerConnection* added = connection.get();
    connections_.emplace(added->id, std::move(connection));
    return added;
}

void TcpRelay::remove_connection(PeerConnection* connection) {
    if (connection->peer_stream != nullptr) {
        bufferevent_free(connection->peer_stream);
    }
    if (connection->client_stream != nullptr) {
        bufferevent_free(connection->client_stream);
    }
    event_free(connection->bind_timer);
    event_free(connection->resume_timer);
    --connection->relayed->connection_count;
    connections_.erase(connection->id);
}

void TcpRelay::answer(turn::Allocation& allocation, stun::Method method,
                      const stun::TransactionId& transaction_id, const stun::IntegrityKey& key,
                      std::optional<turn::TurnError> error,
                      std::optional<std::uint32_t> connection_id) {
    const auto message = server_->late_answer(method, transaction_id, key, error, connection_id);
    allocation.client_link->send_to_client(allocation.five_tuple().client, message);
}

void TcpRelay::connect(RelayedAddress* relayed, const turn::TurnServer::TcpConnect& request) {
    turn::Allocation& allocation = *request.allocation;
    const auto refuse = [&](turn::TurnError error) {
        answer(allocation, stun::Method::connect, request.transaction_id, request.key, error,
               std::nullopt);
    };
    for (const auto& [id, connection] : connections_) {
        if (connection->relayed == relayed && connection->peer == request.peer) {
            return refuse(turn::TurnError::connection_already_exists);  // RFC 6062 §5.2
        }
    }
    if (relayed->connection_count >= max_connections_per_allocation) {
        return refuse(turn::TurnError::insufficient_capacity);
    }
    // The connection leaves from the relayed transport address itself (RFC 6062 §5.2).
    std::string error;
    const int fd = open_bound_socket(relayed->address, SOCK_STREAM, error);
    if (fd < 0) {
        return refuse(turn::TurnError::connection_timeout_or_failure);
    }
    bufferevent* stream = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (stream == nullptr) {
        ::close(fd);
        return refuse(turn::TurnError::connection_timeout_or_failure);
    }
    PeerConnection* connection = add_connection(*relayed, request.peer, stream);
    connection->connect_transaction = request.transaction_id;
    connection->key = request.key;
    bufferevent_setcb(stream, nullptr, nullptr, &TcpRelay::on_connect_event, connection);
    const timeval connect_timeout{connect_timeout_seconds, 0};
    bufferevent_set_timeouts(stream, nullptr, &connect_timeout);
    sockaddr_storage destination;
    const socklen_t length = request.peer.to_sockaddr(destination);
    if (bufferevent_socket_connect(stream, reinterpret_cast<sockaddr*>(&destination),
                                   static_cast<int>(length)) != 0) {
        remove_connection(connection);
        return refuse(turn::TurnError::connection_timeout_or_failure);
    }
}

void TcpRelay::on_connect_event(bufferevent* stream, short events, void* context) {
    auto* connection = static_cast<PeerConnection*>(context);
    TcpRelay* relay = connection->relay;
    turn::Allocation& allocation = *connection->relayed->allocation;
    if ((events & BEV_EVENT_CONNECTED) != 0 &&
        connection->state == PeerConnection::State::connecting) {
        connection->state = PeerConnection::State::awaiting_bind;
        // Nothing is read from the peer until the client has bound a data connection.
        bufferevent_disable(stream, EV_READ);
        bufferevent_set_timeouts(stream, nullptr, nullptr);
        const timeval bind_timeout{bind_timeout_seconds, 0};
        evtimer_add(connection->bind_timer, &bind_timeout);
        relay->answer(allocation, stun::Method::connect, connection->connect_transaction,
                      connection->key, std::nullopt, connection->id);
        return;
    }
    if (connection->state == PeerConnection::State::connecting) {
        relay->answer(allocation, stun::Method::connect, connection->connect_transaction,
                      connection->key, turn::TurnError::connection_timeout_or_failure,
                      std::nullopt);
    }
    relay->remove_connection(connection);
}

void TcpRelay::on_peer_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int length,
                              void* context) {
    auto* relayed = static_cast<RelayedAddress*>(context);
    TcpRelay* relay = relayed->relay;
    if (relay->out_of_descriptors_) {
        spdlog::info("accept on relayed addresses resumed");
        relay->out_of_descriptors_ = false;
    }
    const auto peer = TransportAddress::from_sockaddr(address, static_cast<socklen_t>(length));
    // RFC 6062 §5.3: a peer without a permission is not let in.
    if (!peer || !relayed->allocation->has_permission(peer->ip, relay->clock_.now().monotonic) ||
        relayed->connection_count >= max_connections_per_allocation) {
        ++relay->refused_without_permission;
        ::close(fd);
        return;
    }
    bufferevent* stream = bufferevent_socket_new(relay->base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (stream == nullptr) {
        ::close(fd);
        return;
    }
    PeerConnection* connection = relay->add_connection(*relayed, *peer, stream);
    connection->state = PeerConnection::State::awaiting_bind;
    bufferevent_setcb(stream, nullptr, nullptr, &TcpRelay::on_pipe_event, connection);
    bufferevent_disable(stream, EV_READ);
    const timeval bind_timeout{bind_timeout_seconds, 0};
    evtimer_add(connection->bind_timer, &bind_timeout);
    relay->send_connection_attempt(*connection);
}

// Any peer may connect to a relayed address (the permission is checked once accepted), so
// out of descriptors the listening socket stays readable and accepting again at once
// would spin. As on the client listeners: pause, retry every 100 ms, let peers wait in the
// backlog.
void TcpRelay::on_peer_accept_error(evconnlistener* listener, void* context) {
    auto* relayed = static_cast<RelayedAddress*>(context);
    TcpRelay* relay = relayed->relay;
    const int error = EVUTIL_SOCKET_ERROR();
    if (!means_out_of_descriptors(error)) {
        return;  // that connection's own trouble
    }
    ++relay->accept_out_of_descriptors;
    if (!relay->out_of_descriptors_) {
        spdlog::warn(
            "accept on relayed addresses paused: out of file descriptors ({}); "
            "retrying every 100 ms",
            std::strerror(error));
        relay->out_of_descriptors_ = true;
    }
    if (relay->accept_resume_timer_ == nullptr) {
        relay->accept_resume_timer_ = evtimer_new(relay->base_, &TcpRelay::on_accept_resume, relay);
        if (relay->accept_resume_timer_ == nullptr) {
            return;  // without a timer to resume it, a paused listener would stay paused
        }
    }
    evconnlistener_disable(listener);
    relay->paused_accepting_.push_back(relayed);
    if (evtimer_pending(relay->accept_resume_timer_, nullptr) == 0) {
        constexpr timeval pause{0, 100'000};
        evtimer_add(relay->accept_resume_timer_, &pause);
    }
}

void TcpRelay::on_accept_resume(evutil_socket_t, short, void* context) {
    auto* relay = static_cast<TcpRelay*>(context);
    for (RelayedAddress* relayed : std::exchange(relay->paused_accepting_, {})) {
        evconnlistener_enable(relayed->listener);
    }
}

void TcpRelay::send_connection_attempt(PeerConnection& connection) {
    turn::Allocation& allocation = *connection.relayed->allocation;
    stun::TransactionId transaction_id{};
    const std::uint32_t id = connection.id;
    std::memcpy(transaction_id.data(), &id, sizeof id);
    std::array<std::byte, 128> buffer{};
    stun::MessageBuilder builder(buffer, stun::Method::connection_attempt,
                                 stun::MessageClass::indication, transaction_id);
    builder.add_u32(stun::attribute::connection_id, connection.id);
    builder.add_xor_address(stun::attribute::xor_peer_address, connection.peer);
    builder.add_fingerprint();
    allocation.client_link->send_to_client(allocation.five_tuple().client, builder.finish());
}

void TcpRelay::on_bind_timeout(evutil_socket_t, short, void* context) {
    auto* connection = static_cast<PeerConnection*>(context);
    ++connection->relay->bind_timeouts;
    connection->relay->remove_connection(connection);
}

stun::Bytes TcpRelay::bind_refusal(const turn::TurnServer::TcpConnectionBind& bind) {
    return server_->late_answer(stun::Method::connection_bind, bind.transaction_id, bind.key,
                                turn::TurnError::bad_request, std::nullopt);
}

void TcpRelay::refuse_stream(bufferevent* stream, stun::Bytes answer) {
    // Let the error reach the client, then close.
    bufferevent_write(stream, answer.data(), answer.size());
    bufferevent_setcb(
        stream, nullptr, [](bufferevent* drained, void*) { bufferevent_free(drained); },
        [](bufferevent* failed, short, void*) { bufferevent_free(failed); }, nullptr);
    bufferevent_enable(stream, EV_WRITE);
}

void TcpRelay::adopt(DetachedStream detached) {
    bufferevent* client = detached.stream;
    if (client == nullptr) {
        client = bufferevent_socket_new(base_, detached.fd, BEV_OPT_CLOSE_ON_FREE);
        if (client == nullptr) {
            ::close(detached.fd);
            return;
        }
    }
    const auto& bind = detached.bind;
    const auto found = connections_.find(bind.connection_id);
    PeerConnection* connection = found == connections_.end() ? nullptr : found->second.get();
    // RFC 6062 §5.4: an unknown or already bound connection, or another user's, gets 400.
    if (connection == nullptr || connection->state != PeerConnection::State::awaiting_bind ||
        connection->relayed->allocation->owner().username != bind.username) {
        refuse_stream(client, bind_refusal(bind));
        return;
    }
    evtimer_del(connection->bind_timer);
    connection->state = PeerConnection::State::bound;
    connection->client_stream = client;
    const auto success = server_->late_answer(stun::Method::connection_bind, bind.transaction_id,
                                              bind.key, std::nullopt, std::nullopt);
    bufferevent_write(client, success.data(), success.size());
    if (!detached.unread.empty()) {
        bufferevent_write(connection->peer_stream, detached.unread.data(), detached.unread.size());
    }
    for (bufferevent* stream : {connection->client_stream, connection->peer_stream}) {
        bufferevent_setcb(stream, &TcpRelay::on_pipe_read, &TcpRelay::on_pipe_drained,
                          &TcpRelay::on_pipe_event, connection);
        bufferevent_set_timeouts(stream, nullptr, nullptr);
        bufferevent_setwatermark(stream, EV_WRITE, max_queued_bytes() / 2, 0);
        // A side paused for bandwidth holds at most this much unread.
        bufferevent_setwatermark(stream, EV_READ, 0, max_queued_bytes());
        bufferevent_enable(stream, EV_READ | EV_WRITE);
    }
    // Bytes the client sent right behind its ConnectionBind are already buffered.
    if (evbuffer_get_length(bufferevent_get_input(client)) > 0) {
        on_pipe_read(client, connection);
    }
}

// A paired connection: what one side reads, the other writes, as far as the allocation's
// and its session's bandwidth budgets allow. When the writer's queue passes the cap, the
// reader stops until it has drained (no unbounded memory).
void TcpRelay::on_pipe_read(bufferevent* stream, void* context) {
    auto* connection = static_cast<PeerConnection*>(context);
    bufferevent* other = connection->other_than(stream);
    if (other == nullptr) {
        return;
    }
    const bool from_peer = stream == connection->peer_stream;
    evbuffer* input = bufferevent_get_input(stream);
    turn::Allocation& allocation = *connection->relayed->allocation;
    auto& counters = from_peer ? allocation.peer_to_client : allocation.client_to_peer;
    const std::size_t waiting = evbuffer_get_length(input);
    const auto now = connection->relay->clock_.now().monotonic;
    const std::size_t granted = from_peer ? allocation.grant_peer_to_client(waiting, now)
                                          : allocation.grant_client_to_peer(waiting, now);
    if (granted > 0) {
        ++counters.packets;  // one read's worth: a stream has no packets of its own
        counters.bytes += granted;
        allocation.activity->note_relayed(now);
        evbuffer_remove_buffer(input, bufferevent_get_output(other), granted);
        if (!connection->relayed_data) [[unlikely]] {
            connection->relayed_data = true;
            connection->relay->server_->note_stream_relayed(
                allocation, connection->peer,
                from_peer ? turn::Direction::peer_to_client : turn::Direction::client_to_peer, now);
        }
    }
    if (granted < waiting) {
        // Over budget: a stream is delayed, never cut. This side is not read until the
        // budgets refill; TCP's flow control holds its sender back meanwhile.
        ++counters.paused_bandwidth;
        ++connection->relay->bandwidth_pauses;
        connection->side_of(stream).paused = true;
        bufferevent_disable(stream, EV_READ);
        evtimer_add(connection->resume_timer, &bandwidth_retry);
    }
    if (evbuffer_get_length(bufferevent_get_output(other)) >=
        connection->relay->max_queued_bytes()) {
        bufferevent_disable(stream, EV_READ);
    }
}

// The writer's queue has drained: its reader may go on, or, when that side has closed,
// what it left unread moves now and the connection closes once all is delivered.
void TcpRelay::on_pipe_drained(bufferevent* stream, void* context) {
    auto* connection = static_cast<PeerConnection*>(context);
    bufferevent* from = connection->other_than(stream);
    if (from == nullptr || connection->state != PeerConnection::State::bound) {
        return;
    }
    const PeerConnection::Side& side = connection->side_of(from);
    if (side.closed) {
        if (!side.paused && evbuffer_get_length(bufferevent_get_input(from)) > 0) {
            on_pipe_read(from, connection);
        }
        connection->relay->close_if_delivered(connection);
        return;
    }
    if (!side.paused) {
        bufferevent_enable(from, EV_READ);
    }
}

void TcpRelay::on_resume_timer(evutil_socket_t, short, void* context) {
    auto* connection = static_cast<PeerConnection*>(context);
    for (bufferevent* stream : {connection->peer_stream, connection->client_stream}) {
        PeerConnection::Side& side = connection->side_of(stream);
        bufferevent* other = connection->other_than(stream);
        if (!side.paused || other == nullptr) {
            continue;
        }
        side.paused = false;
        if (!side.closed && evbuffer_get_length(bufferevent_get_output(other)) <
                                connection->relay->max_queued_bytes()) {
            bufferevent_enable(stream, EV_READ);
        }
        if (evbuffer_get_length(bufferevent_get_input(stream)) > 0) {
            on_pipe_read(stream, connection);  // what was held back, as far as budgets allow
        }
    }
    connection->relay->close_if_delivered(connection);
}

void TcpRelay::on_pipe_event(bufferevent* stream, short events, void* context) {
    auto* connection = static_cast<PeerConnection*>(context);
    if ((events & BEV_EVENT_EOF) != 0 && (events & BEV_EVENT_ERROR) == 0 &&
        connection->state == PeerConnection::State::bound) {
        // A side closed: what it sent before reaches the other side (as the budgets
        // allow), then both are closed. The other side's writes are watched to the end.
        PeerConnection::Side& side = connection->side_of(stream);
        side.closed = true;
        bufferevent_setwatermark(connection->other_than(stream), EV_WRITE, 0, 0);
        if (!side.paused) {  // a paused side moves on its timer
            on_pipe_read(stream, connection);
        }
        connection->relay->close_if_delivered(connection);
        return;
    }
    if ((events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) != 0) {
        connection->relay->remove_connection(connection);
    }
}

bool TcpRelay::close_if_delivered(PeerConnection* connection) {
    for (bufferevent* from : {connection->peer_stream, connection->client_stream}) {
        if (connection->side_of(from).closed &&
            evbuffer_get_length(bufferevent_get_input(from)) == 0 &&
            evbuffer_get_length(bufferevent_get_output(connection->other_than(from))) == 0) {
            remove_connection(connection);
            return true;
        }
    }
    return false;
}

}  // namespace hearth::relay
