#include "relay/net/tcp_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <linux/filter.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include "relay/net/descriptor_limit.h"
#include "relay/stun/stream_framing.h"
#include "relay/net/tcp_relay.h"
#include "relay/net/udp_listener.h"
#include "relay/net/worker.h"

namespace hearth::relay {

TcpListener::TcpListener(Worker& worker, TransportAddress address, turn::ClientTransport transport)
    : worker_(worker), address_(address), transport_(transport) {}

TcpListener::~TcpListener() {
    connections_.clear();
    if (resume_timer_ != nullptr) {
        event_free(resume_timer_);
    }
    if (listener_ != nullptr) {
        evconnlistener_free(listener_);
    }
}

namespace {

// Picks the listener of worker (client address mod workers) for every new connection, so
// an RFC 6062 client's control and data connections meet on one worker. Classic BPF
// reads the source address relative to the network header (SKF_NET_OFF); for IPv6 its
// last 32 bits. Sockets join the SO_REUSEPORT group in worker order, so the index the
// program returns is the worker's.
void steer_by_client_address(int fd, AddressFamily family, unsigned workers) {
    if (workers < 2) {
        return;
    }
    const std::uint32_t source_offset = family == AddressFamily::ipv4 ? 12 : 20;
    sock_filter program[] = {
        {BPF_LD | BPF_W | BPF_ABS, 0, 0, static_cast<std::uint32_t>(SKF_NET_OFF) + source_offset},
        {BPF_ALU | BPF_MOD | BPF_K, 0, 0, workers},
        {BPF_RET | BPF_A, 0, 0, 0},
    };
    sock_fprog filter{static_cast<unsigned short>(std::size(program)), program};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &filter, sizeof filter) != 0) {
        spdlog::warn("cannot steer TCP connections by client address: {}", std::strerror(errno));
    }
}

}  // namespace

bool TcpListener::open(std::string& error) {
    const int fd = open_bound_socket(address_, SOCK_STREAM, error);
    if (fd < 0) {
        return false;
    }

    listener_ = evconnlistener_new(worker_.base(), &TcpListener::on_accept, this,
                                   LEV_OPT_CLOSE_ON_FREE, 128, fd);
    if (listener_ == nullptr) {
        ::close(fd);
        error = "listen " + address_.to_string() + " failed";
        return false;
    }
    evconnlistener_set_error_cb(listener_, &TcpListener::on_accept_error);
    resume_timer_ = evtimer_new(worker_.base(), &TcpListener::on_resume, this);
    // After listen(): attached earlier, the program keeps the other workers' sockets
    // from joining the SO_REUSEPORT group (EADDRINUSE).
    steer_by_client_address(fd, address_.ip.family, worker_.shared().worker_count);
    return true;
}

// Out of descriptors, the pending connection stays in the backlog and the listening
// socket stays readable: accepting again at once would spin. Pause a moment instead; the
// clients wait in the backlog and are served once descriptors are free.
void TcpListener::on_accept_error(evconnlistener* listener, void* context) {
    auto* self = static_cast<TcpListener*>(context);
    const int error = EVUTIL_SOCKET_ERROR();
    if (!means_out_of_descriptors(error)) {
        return;  // that connection's own trouble (ECONNABORTED and the like)
    }
    ++self->accept_out_of_descriptors;
    if (!self->out_of_descriptors_) {
        spdlog::warn("accept on {} paused: out of file descriptors ({}); retrying every 100 ms",
                     self->address_.to_string(), std::strerror(error));
        self->out_of_descriptors_ = true;
    }
    evconnlistener_disable(listener);
    constexpr timeval pause{0, 100'000};
    evtimer_add(self->resume_timer_, &pause);
}

void TcpListener::on_resume(evutil_socket_t, short, void* context) {
    auto* self = static_cast<TcpListener*>(context);
    evconnlistener_enable(self->listener_);
}

void TcpListener::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int length,
                            void* context) {
    auto* self = static_cast<TcpListener*>(context);
    if (self->out_of_descriptors_) {
        spdlog::info("accept on {} resumed", self->address_.to_string());
        self->out_of_descriptors_ = false;
    }
    const auto client = TransportAddress::from_sockaddr(address, static_cast<socklen_t>(length));
    if (!client || self->worker_.shared().connections.admit(client->ip) !=
                       ConnectionLimiter::Result::admitted) {
        ::close(fd);  // counted by the limiter
        return;
    }
    bufferevent* stream = nullptr;
    if (self->transport_ == turn::ClientTransport::tls) {
        SSL_CTX* tls_context = self->worker_.tls_context();
        SSL* ssl = tls_context != nullptr ? SSL_new(tls_context) : nullptr;
        if (ssl != nullptr) {
            stream = bufferevent_openssl_socket_new(
                self->worker_.base(), fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
            if (stream == nullptr) {
                SSL_free(ssl);
            } else {
                // A peer that just closes the socket is a normal end, not an attack.
                bufferevent_openssl_set_allow_dirty_shutdown(stream, 1);
            }
        }
    } else {
        stream = bufferevent_socket_new(self->worker_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (stream == nullptr) {
        ::close(fd);
        self->worker_.shared().connections.release(client->ip);
        return;
    }
    const turn::FiveTuple tuple{*client, self->address_, self->transport_};
    auto connection = std::make_unique<StreamConnection>(*self, stream, tuple);
    self->connections_.emplace(connection.get(), std::move(connection));
}

void TcpListener::close_connection(StreamConnection* connection) {
    connections_.erase(connection);
}

StreamConnection::StreamConnection(TcpListener& listener, bufferevent* stream,
                                   turn::FiveTuple tuple)
    : listener_(listener), stream_(stream), tuple_(tuple) {
    bufferevent_setcb(stream_, &StreamConnection::on_read, nullptr, &StreamConnection::on_event,
                      this);
    if (tuple_.transport == turn::ClientTransport::tls) {
        // The whole handshake gets a short deadline, so a client that opens connections and
        // never finishes a handshake cannot hold them. A deadline, not the bufferevent's
        // inactivity timeouts: those restart with every byte, so one byte every few seconds
        // would hold a connection for ever.
        const auto seconds = listener_.worker().stream_limits().tls_handshake_timeout.count();
        const timeval handshake{static_cast<time_t>(seconds), 0};
        handshake_deadline_ =
            evtimer_new(listener_.worker().base(), &StreamConnection::on_handshake_deadline, this);
        if (handshake_deadline_ == nullptr || evtimer_add(handshake_deadline_, &handshake) != 0) {
            bufferevent_set_timeouts(stream_, &handshake, &handshake);  // the next best bound
        }
    } else {
        set_idle_timeout();
    }
    // Never buffer more than one maximal frame of input ahead of handling it.
    bufferevent_setwatermark(stream_, EV_READ, 0, 2 * 65540);
    bufferevent_enable(stream_, EV_READ | EV_WRITE);
}

void StreamConnection::hand_in(const turn::FiveTuple&, stun::Bytes request) {
    if (const auto bind = handle_frame(request, false)) {
        // A ConnectionBind never waits for the session store; nothing to hand over here.
        (void)bind;
    }
}

StreamConnection::~StreamConnection() {
    if (handshake_deadline_ != nullptr) {
        event_free(handshake_deadline_);
    }
    listener_.worker().forget_requests_of(*this);
    // RFC 8656 §3.1: the allocation lives no longer than its TCP connection.
    listener_.worker().server().client_gone(tuple_);
    listener_.worker().shared().connections.release(tuple_.client.ip);
    if (stream_ != nullptr) {  // null once handed over to another worker
        bufferevent_free(stream_);
    }
}

void StreamConnection::on_read(bufferevent*, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    if (self->read_frames() == ReadResult::close) {
        self->listener_.close_connection(self);
    }
}

void StreamConnection::set_idle_timeout() {
    const auto seconds = listener_.worker().stream_limits().idle_timeout.count();
    const timeval idle{static_cast<time_t>(seconds), 0};
    bufferevent_set_timeouts(stream_, &idle, nullptr);
}

void StreamConnection::on_handshake_deadline(evutil_socket_t, short, void* context) {
    static_cast<StreamConnection*>(context)->close_for_unfinished_handshake();
}

void StreamConnection::close_for_unfinished_handshake() {
    ++listener_.tls_handshake_failures;
    listener_.close_connection(this);
}

void StreamConnection::on_event(bufferevent* stream, short events, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    if ((events & BEV_EVENT_CONNECTED) != 0) {  // the TLS handshake completed
        if (self->handshake_deadline_ != nullptr) {
            event_free(self->handshake_deadline_);
            self->handshake_deadline_ = nullptr;
        }
        self->set_idle_timeout();
        const SSL* ssl = bufferevent_openssl_get_ssl(stream);
        const char* server_name =
            ssl != nullptr ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
        spdlog::debug("TLS {} from {} (server name '{}')",
                      ssl != nullptr ? SSL_get_version(ssl) : "?", self->tuple_.client.to_string(),
                      server_name != nullptr ? server_name : "");
        return;
    }
    if ((events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0) {
        if (self->tuple_.transport == turn::ClientTransport::tls &&
            bufferevent_openssl_get_ssl(stream) != nullptr &&
            !SSL_is_init_finished(bufferevent_openssl_get_ssl(stream))) {
            self->close_for_unfinished_handshake();
            return;
        }
        self->listener_.close_connection(self);
    }
}

StreamConnection::ReadResult StreamConnection::read_frames() {
    evbuffer* input = bufferevent_get_input(stream_);
    for (;;) {
        const std::size_t available = evbuffer_get_length(input);
        if (available < 4) {
            return ReadResult::keep_open;
        }
        const auto* head = reinterpret_cast<const std::byte*>(evbuffer_pullup(input, 4));
        const auto result = stun::next_frame(stun::Bytes(head, 4));
        if (std::holds_alternative<stun::FramingError>(result)) {
            ++listener_.dropped_not_stun;
            return ReadResult::close;
        }
        if (std::holds_alternative<stun::NeedMoreBytes>(result)) {
            return ReadResult::keep_open;
        }
        const auto frame = std::get<stun::Frame>(result);
        if (available < frame.size) {
            return ReadResult::keep_open;
        }
        const auto* bytes = reinterpret_cast<const std::byte*>(
            evbuffer_pullup(input, static_cast<ssize_t>(frame.size)));
        auto bind = handle_frame(stun::Bytes(bytes, frame.message_size),
                                 frame.kind == stun::FrameKind::channel_data);
        evbuffer_drain(input, frame.size);
        if (bind) {
            // The hand-over frees this bufferevent, which libevent would only defer from
            // inside its own callback: run it from the loop once this callback is done.
            bufferevent_disable(stream_, EV_READ | EV_WRITE);
            bufferevent_setcb(stream_, nullptr, nullptr, nullptr, nullptr);
            TcpListener* listener = &listener_;
            listener_.worker().post([listener, this, bind = std::move(*bind)](Worker&) mutable {
                if (listener->owns(this)) {
                    hand_over(std::move(bind));
                    listener->close_connection(this);
                }
            });
            return ReadResult::handed_over;
        }
    }
}

std::optional<turn::TurnServer::TcpConnectionBind> StreamConnection::handle_frame(
    stun::Bytes frame, bool is_channel_data) {
    Worker& worker = listener_.worker();
    auto& server = worker.server();
    const turn::Now now = worker.now();
    if (is_channel_data) {
        if (const auto send = server.handle_channel_data(tuple_, frame, now.monotonic)) {
            worker.relay_sockets().send_to_peer(*send);
        }
        return std::nullopt;
    }
    const auto message = stun::MessageView::parse(frame);
    if (!message) {
        ++listener_.dropped_malformed;
        return std::nullopt;
    }
    const auto outcome = server.handle_stun(*message, tuple_, now, this);
    if (outcome.waiting_for) {
        worker.set_aside(frame, tuple_, *this);
        return std::nullopt;
    }
    if (!outcome.response.empty()) {
        send_to_client(tuple_.client, outcome.response);
    }
    if (outcome.to_peer) {
        worker.relay_sockets().send_to_peer(*outcome.to_peer);
    }
    if (outcome.tcp_connect) {
        worker.relay_sockets().connect(*outcome.tcp_connect);
    }
    return outcome.tcp_connection_bind;
}

// RFC 6062 §5.4: this connection becomes the data connection of a peer connection. TCP
// and TLS listeners steer every connection of a client address to one worker (see
// steer_by_client_address), so the peer connection is normally this worker's and the
// bufferevent itself changes hands. A plain TCP connection that landed elsewhere moves by
// its socket; TLS state cannot move between loops, so such a TLS connection is refused.
void StreamConnection::hand_over(turn::TurnServer::TcpConnectionBind bind) {
    Worker& worker = listener_.worker();
    const std::uint32_t owner = TcpRelay::worker_of(bind.connection_id);
    auto& workers = worker.shared().workers;
    DetachedStream detached;
    detached.bind = std::move(bind);
    if (owner == worker.index()) {
        detached.stream = stream_;
        stream_ = nullptr;  // the TcpRelay owns it now
        worker.relay_sockets().tcp_relay().adopt(std::move(detached));
        return;
    }
    const bool tls = bufferevent_openssl_get_ssl(stream_) != nullptr;
    if (!tls && owner < workers.size()) {
        evbuffer* input = bufferevent_get_input(stream_);
        detached.unread.resize(evbuffer_get_length(input));
        evbuffer_remove(input, detached.unread.data(), detached.unread.size());
        detached.fd = dup(bufferevent_getfd(stream_));
        if (detached.fd >= 0) {
            auto carried = std::make_shared<DetachedStream>(std::move(detached));
            workers[owner]->post([carried](Worker& target) {
                target.relay_sockets().tcp_relay().adopt(std::move(*carried));
            });
            return;
        }
    }
    spdlog::info("refused ConnectionBind from {}: connection {} is on another worker",
                 tuple_.client.to_string(), detached.bind.connection_id);
    send_to_client(
        tuple_.client,
        worker.server().late_answer(stun::Method::connection_bind, detached.bind.transaction_id,
                                    detached.bind.key, turn::TurnError::bad_request, std::nullopt));
}

bool StreamConnection::send_to_client(const TransportAddress&, stun::Bytes message) {
    evbuffer* output = bufferevent_get_output(stream_);
    if (evbuffer_get_length(output) + message.size() >
        listener_.worker().stream_limits().output_buffer_bytes) {
        ++listener_.dropped_output_full;  // a slow reader loses data, never our memory
        return false;
    }
    return bufferevent_write(stream_, message.data(), message.size()) == 0;
}

}  // namespace hearth::relay
