#include "relay/net/stream_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <variant>

#include "relay/net/proxy_header.h"
#include "relay/stun/stream_framing.h"

namespace hearth::relay {

namespace {

// Input buffered ahead of handling it: one maximal frame once the connection has made its
// allocation, one maximal STUN message before (the only thing an unauthenticated client
// sends), so strangers cannot park 64 KiB of a partial frame in each connection they hold.
constexpr std::size_t authenticated_input_limit = 2 * 65540;
constexpr std::size_t unauthenticated_input_limit = stun::max_message_size;

}  // namespace

void StreamConnections::add(bufferevent* stream, const turn::FiveTuple& tuple) {
    auto connection = std::make_unique<StreamConnection>(*this, stream, tuple);
    connections_.emplace(connection.get(), std::move(connection));
}

StreamConnection::StreamConnection(StreamConnections& owner, bufferevent* stream,
                                   turn::FiveTuple tuple)
    : owner_(owner), parts_(owner.parts()), stream_(stream), tuple_(tuple) {
    bufferevent_setcb(stream_, &StreamConnection::on_read, nullptr, &StreamConnection::on_event,
                      this);
    if (tuple_.transport == turn::ClientTransport::tls) {
        // The whole handshake gets a short deadline, so a client that opens connections and
        // never finishes a handshake cannot hold them. A deadline, not the bufferevent's
        // inactivity timeouts: those restart with every byte, so one byte every few seconds
        // would hold a connection for ever.
        const auto seconds = parts_.limits->tls_handshake_timeout.count();
        const timeval handshake{static_cast<time_t>(seconds), 0};
        handshake_deadline_ =
            evtimer_new(parts_.base, &StreamConnection::on_handshake_deadline, this);
        if (handshake_deadline_ == nullptr || evtimer_add(handshake_deadline_, &handshake) != 0) {
            bufferevent_set_timeouts(stream_, &handshake, &handshake);  // the next best bound
        }
    } else {
        set_idle_timeout();
    }
    unauthenticated_position_ = parts_.unauthenticated->add(this);
    start_unauthenticated_deadline();
    bufferevent_setwatermark(stream_, EV_READ, 0, unauthenticated_input_limit);
    bufferevent_enable(stream_, EV_READ | EV_WRITE);
}

StreamConnection::~StreamConnection() {
    if (handshake_deadline_ != nullptr) {
        event_free(handshake_deadline_);
    }
    if (unauthenticated_deadline_ != nullptr) {
        event_free(unauthenticated_deadline_);
    }
    const bool was_authenticated = !unauthenticated_position_.has_value();
    if (unauthenticated_position_) {
        parts_.unauthenticated->remove(*unauthenticated_position_);
    }
    parts_.dispatcher->connection_closed(*this, tuple_);
    parts_.connections->release(tuple_.client.ip, parts_.worker_index, was_authenticated);
    if (stream_ != nullptr) {  // null once handed over to the TCP relay
        bufferevent_free(stream_);
    }
}

// A deadline from the opening, not an inactivity timer: a client sending a Binding now and
// then must not hold a connection it never allocates on.
void StreamConnection::start_unauthenticated_deadline() {
    const auto seconds = parts_.limits->unauthenticated_timeout.count();
    const timeval deadline{static_cast<time_t>(seconds), 0};
    unauthenticated_deadline_ =
        evtimer_new(parts_.base, &StreamConnection::on_unauthenticated_deadline, this);
    if (unauthenticated_deadline_ != nullptr) {
        evtimer_add(unauthenticated_deadline_, &deadline);
    }
}

void StreamConnection::on_unauthenticated_deadline(evutil_socket_t, short, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    if (self->authenticated()) {
        return;
    }
    ++self->owner_.counters.no_allocation_in_time;
    self->owner_.close(self);
}

bool StreamConnection::authenticated() {
    if (!unauthenticated_position_) {
        return true;
    }
    if (!parts_.dispatcher->holds_allocation(tuple_)) {
        return false;
    }
    leave_unauthenticated();
    return true;
}

// The connection made its allocation: no deadline, a full frame of input, and its place
// moves from the unauthenticated share of the bounds to the rest.
void StreamConnection::leave_unauthenticated() {
    parts_.unauthenticated->remove(*unauthenticated_position_);
    unauthenticated_position_.reset();
    if (unauthenticated_deadline_ != nullptr) {
        event_free(unauthenticated_deadline_);
        unauthenticated_deadline_ = nullptr;
    }
    parts_.connections->authenticated(tuple_.client.ip, parts_.worker_index);
    bufferevent_setwatermark(stream_, EV_READ, 0, authenticated_input_limit);
}

void StreamConnection::evict() {
    ++owner_.counters.evicted_unauthenticated;
    owner_.close(this);
}

void StreamConnection::on_read(bufferevent*, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    if (self->read_frames() == ReadResult::close) {
        self->owner_.close(self);
    }
}

void StreamConnection::set_idle_timeout() {
    const auto seconds = parts_.limits->idle_timeout.count();
    const timeval idle{static_cast<time_t>(seconds), 0};
    bufferevent_set_timeouts(stream_, &idle, nullptr);
}

void StreamConnection::on_handshake_deadline(evutil_socket_t, short, void* context) {
    static_cast<StreamConnection*>(context)->close_for_unfinished_handshake();
}

void StreamConnection::close_for_unfinished_handshake() {
    ++owner_.counters.tls_handshake_failures;
    owner_.close(this);
}

void StreamConnection::on_event(bufferevent* stream, short events, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    SSL* ssl = bufferevent_openssl_get_ssl(stream);
    if ((events & BEV_EVENT_CONNECTED) != 0) {  // the TLS handshake completed
        if (self->handshake_deadline_ != nullptr) {
            event_free(self->handshake_deadline_);
            self->handshake_deadline_ = nullptr;
        }
        self->set_idle_timeout();
        const char* server_name =
            ssl != nullptr ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
        spdlog::debug("TLS {} from {} (server name '{}')",
                      ssl != nullptr ? SSL_get_version(ssl) : "?", self->tuple_.client.to_string(),
                      server_name != nullptr ? server_name : "");
        return;
    }
    if ((events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) != 0) {
        if (ssl != nullptr && !SSL_is_init_finished(ssl)) {
            self->close_for_unfinished_handshake();
            return;
        }
        self->owner_.close(self);
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
            ++(looks_like_untrusted_proxy_header() ? owner_.counters.proxy_header_untrusted
                                                   : owner_.counters.not_stun);
            return ReadResult::close;
        }
        if (std::holds_alternative<stun::NeedMoreBytes>(result)) {
            return ReadResult::keep_open;
        }
        const auto frame = std::get<stun::Frame>(result);
        if (refuse_before_authentication(frame)) {
            return ReadResult::close;
        }
        if (available < frame.size) {
            return ReadResult::keep_open;
        }
        const auto* bytes = reinterpret_cast<const std::byte*>(
            evbuffer_pullup(input, static_cast<ssize_t>(frame.size)));
        auto bind = parts_.dispatcher->on_frame(
            *this, tuple_, stun::Bytes(bytes, frame.message_size), frame.kind, parts_.clock->now());
        evbuffer_drain(input, frame.size);
        if (bind) {
            hand_over_after_callback(std::move(*bind));
            return ReadResult::handed_over;
        }
        if (unauthenticated_position_) {
            authenticated();  // an Allocate may just have made the allocation
        }
    }
}

// RFC 8656 §12: ChannelData travels on a channel bound on an allocation, so a connection
// without one has none to send; its frame is refused at the header, not buffered.
bool StreamConnection::refuse_before_authentication(const stun::Frame& frame) {
    if (looks_like_untrusted_proxy_header() && !authenticated()) {
        ++owner_.counters.proxy_header_untrusted;
        return true;
    }
    if (frame.kind != stun::FrameKind::channel_data || authenticated()) {
        return false;
    }
    ++owner_.counters.unauthenticated_frames;
    return true;
}

// proxy-protocol.txt §2: a PROXY header is honoured only from a trusted proxy; from anyone
// else it is refused at its first bytes, before the framing would buffer it ("PR" reads as
// a ChannelData header, the v2 signature as a STUN header of 3338 bytes), and counted
// apart, so that a load balancer missing from `listen.proxy_protocol_from` shows as that.
bool StreamConnection::looks_like_untrusted_proxy_header() {
    if (!unauthenticated_position_) {
        return false;
    }
    evbuffer* input = bufferevent_get_input(stream_);
    const std::size_t length = std::min<std::size_t>(evbuffer_get_length(input), 12);
    const auto* head =
        reinterpret_cast<const std::byte*>(evbuffer_pullup(input, static_cast<ssize_t>(length)));
    return looks_like_proxy_header(ProxyHeaderBytes(head, length));
}

// The hand-over frees this bufferevent, which libevent would only defer from inside its
// own callback: it runs from the loop once this callback is done.
void StreamConnection::hand_over_after_callback(turn::TurnServer::TcpConnectionBind bind) {
    bufferevent_disable(stream_, EV_READ | EV_WRITE);
    bufferevent_setcb(stream_, nullptr, nullptr, nullptr, nullptr);
    StreamConnections* owner = &owner_;
    parts_.tasks->post([owner, this, bind = std::move(bind)]() mutable {
        if (owner->holds(this)) {
            hand_over(std::move(bind));
            owner->close(this);
        }
    });
}

// RFC 6062 §5.4: this connection becomes the data connection of a peer connection. TCP
// and TLS listeners steer every connection of a client address to one worker (see
// tcp_listener.cpp), so the peer connection is normally this worker's and the
// bufferevent itself changes hands. A plain TCP connection that landed elsewhere moves by
// its socket; TLS state cannot move between loops, so such a TLS connection is refused.
void StreamConnection::hand_over(turn::TurnServer::TcpConnectionBind bind) {
    const std::uint32_t owner = TcpRelay::worker_of(bind.connection_id);
    DetachedStream detached;
    detached.bind = std::move(bind);
    if (owner == parts_.worker_index) {
        detached.stream = stream_;
        stream_ = nullptr;  // the TcpRelay owns it now
        parts_.tcp_relay->adopt(std::move(detached));
        return;
    }
    const bool tls = bufferevent_openssl_get_ssl(stream_) != nullptr;
    if (!tls && owner < parts_.worker_count) {
        evbuffer* input = bufferevent_get_input(stream_);
        detached.unread.resize(evbuffer_get_length(input));
        evbuffer_remove(input, detached.unread.data(), detached.unread.size());
        detached.fd = dup(bufferevent_getfd(stream_));
        if (detached.fd >= 0) {
            parts_.other_workers->hand_to_worker(owner, std::move(detached));
            return;
        }
    }
    spdlog::info("refused ConnectionBind from {}: connection {} is on another worker",
                 tuple_.client.to_string(), detached.bind.connection_id);
    send_to_client(tuple_.client, parts_.tcp_relay->bind_refusal(detached.bind));
}

bool StreamConnection::send_to_client(const TransportAddress&, stun::Bytes message) {
    evbuffer* output = bufferevent_get_output(stream_);
    if (evbuffer_get_length(output) + message.size() > parts_.limits->output_buffer_bytes) {
        ++owner_.counters.output_full;  // a slow reader loses data, never our memory
        return false;
    }
    return bufferevent_write(stream_, message.data(), message.size()) == 0;
}

}  // namespace hearth::relay
