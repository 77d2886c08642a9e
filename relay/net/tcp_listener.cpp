#include "relay/net/tcp_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <linux/filter.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/net/descriptor_limit.h"
#include "relay/net/socket_options.h"

namespace hearth::relay {

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

TcpListener::TcpListener(const StreamParts& parts, TransportAddress address, ListenerKind kind)
    : parts_(parts),
      address_(address),
      kind_(kind),
      connections_(parts_),
      proxy_headers_(parts_.base,
                     [this](bufferevent* socket, const TransportAddress& client) {
                         accept_from_proxy(socket, client);
                     }),
      first_bytes_(
          parts_.base, first_bytes_max_size,
          [this](std::span<const std::byte> received, const TransportAddress&) {
              return examine_first_bytes(received);
          },
          [this](bufferevent* socket, const TransportAddress& client, const FirstBytes& first) {
              dispatch(socket, client, first);
          },
          // Admitted before its first bytes: closed undecided, it leaves the bounds.
          [this](const TransportAddress& client) {
              parts_.connections->release(client.ip, parts_.worker_index, false);
          }),
      splices_(parts_.base) {}

TcpListener::~TcpListener() {
    if (resume_timer_ != nullptr) {
        event_free(resume_timer_);
    }
    if (listener_ != nullptr) {
        evconnlistener_free(listener_);
    }
}

bool TcpListener::open(std::string& error) {
    const int fd = open_bound_socket(address_, SOCK_STREAM, error);
    if (fd < 0) {
        return false;
    }
    listener_ = evconnlistener_new(parts_.base, &TcpListener::on_accept, this,
                                   LEV_OPT_CLOSE_ON_FREE, 128, fd);
    if (listener_ == nullptr) {
        ::close(fd);
        error = "listen " + address_.to_string() + " failed";
        return false;
    }
    evconnlistener_set_error_cb(listener_, &TcpListener::on_accept_error);
    resume_timer_ = evtimer_new(parts_.base, &TcpListener::on_resume, this);
    // After listen(): attached earlier, the program keeps the other workers' sockets
    // from joining the SO_REUSEPORT group (EADDRINUSE).
    steer_by_client_address(fd, address_.ip.family, parts_.worker_count);
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
    ++self->accept_out_of_descriptors_;
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
    if (client && self->from_trusted_proxy(client->ip)) {
        // Bounded as the client's once the header names it: the proxy's own address would
        // put every client behind it under one source's bound.
        self->proxy_headers_.add(fd, *client, self->parts_.limits->unauthenticated_timeout);
        return;
    }
    if (!client || !self->admit(client->ip)) {
        ::close(fd);  // counted by the limiter
        return;
    }
    bufferevent* socket = bufferevent_socket_new(self->parts_.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (socket == nullptr) {
        ::close(fd);
        self->parts_.connections->release(client->ip, self->parts_.worker_index, false);
        return;
    }
    self->start(socket, *client);
}

bool TcpListener::from_trusted_proxy(const IpAddress& source) const {
    const auto& trusted = parts_.limits->proxy_protocol_from;
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const AddressRange& range) { return range.contains(source); });
}

void TcpListener::accept_from_proxy(bufferevent* socket, const TransportAddress& client) {
    if (!admit(client.ip)) {
        bufferevent_free(socket);  // counted by the limiter
        return;
    }
    start(socket, client);
}

// An admitted connection from `client` becomes a StreamConnection, once a multiplexing
// listener knows what it is.
void TcpListener::start(bufferevent* socket, const TransportAddress& client) {
    switch (kind_) {
        case ListenerKind::tcp:
            return serve(socket, client, turn::ClientTransport::tcp);
        case ListenerKind::tls:
            return serve(socket, client, turn::ClientTransport::tls);
        case ListenerKind::mux:
            // Bounded in bytes by the reader, in time like a TLS handshake: a client that
            // says nothing is closed and counted.
            return first_bytes_.add(socket, client, parts_.limits->tls_handshake_timeout);
    }
}

OpeningReader<FirstBytes>::Examined TcpListener::examine_first_bytes(
    std::span<const std::byte> received) {
    auto first = classify_first_bytes(received);
    switch (first.kind) {
        case FirstBytesKind::need_more:
            return OpeningNeedsMore{};
        case FirstBytesKind::turn:
        case FirstBytesKind::tls:
            return first;
        case FirstBytesKind::unknown:
            ++mux_.unknown;
            break;
        case FirstBytesKind::malformed:
            ++mux_.malformed;
            break;
        case FirstBytesKind::too_long:
            ++mux_.too_long;
            break;
    }
    return OpeningRefused{};
}

// A TLS ClientHello naming a configured upstream goes there, byte for byte; every other
// TLS connection, with another name or none, is TURN over TLS (RFC 7443's ALPN is not
// required: browsers send none for TURN).
void TcpListener::dispatch(bufferevent* socket, const TransportAddress& client,
                           const FirstBytes& first) {
    if (first.kind == FirstBytesKind::turn) {
        ++mux_.turn_tcp;
        return serve(socket, client, turn::ClientTransport::tcp);
    }
    for (const auto& upstream : parts_.limits->mux_upstreams) {
        if (upstream.sni == first.server_name) {
            ++mux_.upstream;
            // Not a TURN connection: it leaves the TURN bounds for the upstreams' own.
            parts_.connections->release(client.ip, parts_.worker_index, false);
            return splices_.add(socket, upstream.address, parts_.limits->max_upstream_connections);
        }
    }
    ++mux_.turn_tls;
    serve(socket, client, turn::ClientTransport::tls);
}

// Bytes already in the socket's input (what followed a PROXY header, or the first bytes a
// multiplexing listener read) would wait for the next read event, which a client waiting
// for an answer never sends: the first read is run from the loop instead.
void TcpListener::serve(bufferevent* socket, const TransportAddress& client,
                        turn::ClientTransport transport) {
    bufferevent* stream = transport == turn::ClientTransport::tls ? secure(socket) : socket;
    if (stream == nullptr) {
        parts_.connections->release(client.ip, parts_.worker_index, false);
        return;
    }
    connections_.add(stream, turn::FiveTuple{client, address_, transport});
    if (evbuffer_get_length(bufferevent_get_input(socket)) > 0) {
        bufferevent_trigger(socket, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
    }
}

TcpListener::MuxCounters TcpListener::mux_counters() const {
    MuxCounters counters = mux_;
    counters.opening = first_bytes_.counters;
    counters.splices = splices_.counters;
    counters.upstream_open = splices_.open();
    return counters;
}

// Admits a new connection from `source` within the node's bounds. When the bound it meets
// is held in part by connections without an allocation, the oldest of them on this worker
// (from the same source, for a per-source bound) makes room: strangers holding connections
// cannot keep newcomers out, and each newcomer keeps its place until as many others came
// after it (issue 17). A participant needs it only for its first Allocate.
bool TcpListener::admit(const IpAddress& source) {
    using Result = ConnectionLimiter::Result;
    auto& limiter = *parts_.connections;
    Result result = limiter.admit(source, parts_.worker_index);
    for (int room_made = 0; result != Result::admitted && room_made < 2; ++room_made) {
        const bool per_source =
            result == Result::source_reached || result == Result::source_unauthenticated_reached;
        if (!parts_.unauthenticated->evict_oldest(per_source ? &source : nullptr)) {
            break;
        }
        result = limiter.admit(source, parts_.worker_index);
    }
    if (result != Result::admitted) {
        limiter.count_refusal(result);
        return false;
    }
    return true;
}

// A TLS server side over the accepted socket's bufferevent, with the worker's current
// context. Null on failure, the socket freed.
//
// TLS is an OpenSSL filter over a socket bufferevent rather than a socket bufferevent of
// its own, so that every message is encrypted the moment it is written: each STUN or
// ChannelData message leaves in a TLS record of its own. A socket-mode bufferevent
// encrypts what a turn of the loop queued in one record, and clients that read a record
// as one message (turnutils_uclient, and embedded TURN clients) then lose all but the
// first (RFC 8656 §12.5 makes TLS a byte stream, but nothing is gained by testing them).
// It also lets a PROXY header be read from the socket before the handshake starts.
bufferevent* TcpListener::secure(bufferevent* socket) {
    SSL_CTX* tls_context = parts_.tls_context->get();
    SSL* ssl = tls_context != nullptr ? SSL_new(tls_context) : nullptr;
    if (ssl == nullptr) {
        bufferevent_free(socket);
        return nullptr;
    }
    // The filter writes to the socket's buffer until this much waits there, then keeps
    // the rest in its own (bounded by StreamConnection::send_to_client); and the socket
    // reads no further ahead than a few records.
    const auto limit = parts_.limits->output_buffer_bytes;
    bufferevent_setwatermark(socket, EV_WRITE, 0, limit / 2);
    bufferevent_setwatermark(socket, EV_READ, 0, 64 * 1024);
    bufferevent* stream = bufferevent_openssl_filter_new(
        parts_.base, socket, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (stream == nullptr) {
        bufferevent_free(socket);
        SSL_free(ssl);
        return nullptr;
    }
    // A peer that just closes the socket is a normal end, not an attack.
    bufferevent_openssl_set_allow_dirty_shutdown(stream, 1);
    return stream;
}

}  // namespace hearth::relay
