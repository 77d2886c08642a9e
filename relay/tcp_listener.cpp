#include "relay/tcp_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <variant>

#include "relay/stun/stream_framing.h"
#include "relay/udp_listener.h"
#include "relay/worker.h"

namespace hearth::relay {

TcpListener::TcpListener(Worker& worker, TransportAddress address, turn::ClientTransport transport)
    : worker_(worker), address_(address), transport_(transport) {}

TcpListener::~TcpListener() {
    connections_.clear();
    if (listener_ != nullptr) {
        evconnlistener_free(listener_);
    }
}

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
    return true;
}

void TcpListener::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int length,
                            void* context) {
    auto* self = static_cast<TcpListener*>(context);
    const auto client = TransportAddress::from_sockaddr(address, static_cast<socklen_t>(length));
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
    if (!client || stream == nullptr) {
        if (stream != nullptr) {
            bufferevent_free(stream);
        } else {
            ::close(fd);
        }
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
        // Until the handshake completes the connection gets a short deadline, so a client
        // that opens connections and never finishes a handshake cannot hold them.
        const timeval handshake{TcpListener::tls_handshake_timeout_seconds, 0};
        bufferevent_set_timeouts(stream_, &handshake, &handshake);
    } else {
        set_idle_timeout();
    }
    // Never buffer more than one maximal frame of input ahead of handling it.
    bufferevent_setwatermark(stream_, EV_READ, 0, 2 * 65540);
    bufferevent_enable(stream_, EV_READ | EV_WRITE);
}

StreamConnection::~StreamConnection() {
    // RFC 8656 §3.1: the allocation lives no longer than its TCP connection.
    listener_.worker().server().client_gone(tuple_);
    bufferevent_free(stream_);
}

void StreamConnection::on_read(bufferevent*, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    if (!self->read_frames()) {
        self->listener_.close_connection(self);
    }
}

void StreamConnection::set_idle_timeout() {
    const timeval idle{TcpListener::idle_timeout_seconds, 0};
    bufferevent_set_timeouts(stream_, &idle, nullptr);
}

void StreamConnection::on_event(bufferevent* stream, short events, void* context) {
    auto* self = static_cast<StreamConnection*>(context);
    if ((events & BEV_EVENT_CONNECTED) != 0) {  // the TLS handshake completed
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
            ++self->listener_.tls_handshake_failures;
        }
        self->listener_.close_connection(self);
    }
}

bool StreamConnection::read_frames() {
    evbuffer* input = bufferevent_get_input(stream_);
    for (;;) {
        const std::size_t available = evbuffer_get_length(input);
        if (available < 4) {
            return true;
        }
        const auto* head = reinterpret_cast<const std::byte*>(evbuffer_pullup(input, 4));
        const auto result = stun::next_frame(stun::Bytes(head, 4));
        if (std::holds_alternative<stun::FramingError>(result)) {
            return false;
        }
        if (std::holds_alternative<stun::NeedMoreBytes>(result)) {
            return true;
        }
        const auto frame = std::get<stun::Frame>(result);
        if (available < frame.size) {
            return true;
        }
        const auto* bytes = reinterpret_cast<const std::byte*>(
            evbuffer_pullup(input, static_cast<ssize_t>(frame.size)));
        handle_frame(stun::Bytes(bytes, frame.message_size),
                     frame.kind == stun::FrameKind::channel_data);
        evbuffer_drain(input, frame.size);
    }
}

void StreamConnection::handle_frame(stun::Bytes frame, bool is_channel_data) {
    Worker& worker = listener_.worker();
    auto& server = worker.server();
    const turn::Now now = worker.now();
    if (is_channel_data) {
        if (const auto send = server.handle_channel_data(tuple_, frame, now.monotonic)) {
            worker.relay_sockets().send_to_peer(*send);
        }
        return;
    }
    const auto message = stun::MessageView::parse(frame);
    if (!message) {
        return;
    }
    const auto outcome = server.handle_stun(*message, tuple_, now, this);
    if (!outcome.response.empty()) {
        send_to_client(tuple_.client, outcome.response);
    }
    if (outcome.to_peer) {
        worker.relay_sockets().send_to_peer(*outcome.to_peer);
    }
}

void StreamConnection::send_to_client(const TransportAddress&, stun::Bytes message) {
    evbuffer* output = bufferevent_get_output(stream_);
    if (evbuffer_get_length(output) + message.size() > TcpListener::max_output_bytes) {
        ++listener_.dropped_output_full;  // a slow reader loses data, never our memory
        return;
    }
    bufferevent_write(stream_, message.data(), message.size());
}

}  // namespace hearth::relay
