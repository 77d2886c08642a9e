#include "relay/net/proxy_header_reader.h"

#include <event2/buffer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

namespace hearth::relay {

struct ProxyHeaderReader::Pending {
    ProxyHeaderReader* owner = nullptr;
    bufferevent* socket = nullptr;  // null once handed on
    event* deadline = nullptr;
    TransportAddress proxy;
};

void ProxyHeaderReader::PendingDeleter::operator()(Pending* pending) const {
    if (pending->deadline != nullptr) {
        event_free(pending->deadline);
    }
    if (pending->socket != nullptr) {
        bufferevent_free(pending->socket);
    }
    delete pending;
}

void ProxyHeaderReader::add(evutil_socket_t fd, const TransportAddress& proxy,
                            std::chrono::seconds deadline) {
    if (pending_.size() >= max_pending) {
        ++counters.too_many;
        ::close(fd);
        return;
    }
    std::unique_ptr<Pending, PendingDeleter> pending(new Pending{this, nullptr, nullptr, proxy});
    pending->socket = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (pending->socket == nullptr) {
        ::close(fd);
        return;
    }
    // A deadline from the opening, not an inactivity timeout that each byte restarts.
    pending->deadline = evtimer_new(base_, &ProxyHeaderReader::on_deadline, pending.get());
    const timeval within{static_cast<time_t>(deadline.count()), 0};
    if (pending->deadline == nullptr || evtimer_add(pending->deadline, &within) != 0) {
        return;  // closed by the deleter: no connection without its bound
    }
    // The socket reads no further ahead than the longest header: a header is decided by
    // then (proxy_header.h), and the bytes after it wait for the connection's own reader.
    bufferevent_setwatermark(pending->socket, EV_READ, 0, proxy_header_max_size);
    bufferevent_setcb(pending->socket, &ProxyHeaderReader::on_read, nullptr,
                      &ProxyHeaderReader::on_event, pending.get());
    bufferevent_enable(pending->socket, EV_READ);
    Pending* key = pending.get();
    pending_.emplace(key, std::move(pending));
}

void ProxyHeaderReader::on_read(bufferevent* socket, void* context) {
    auto* pending = static_cast<Pending*>(context);
    ProxyHeaderReader& self = *pending->owner;
    evbuffer* input = bufferevent_get_input(socket);
    const auto length = std::min(evbuffer_get_length(input), proxy_header_max_size);
    const auto* bytes =
        reinterpret_cast<const std::byte*>(evbuffer_pullup(input, static_cast<ssize_t>(length)));
    const auto result = parse_proxy_header(ProxyHeaderBytes(bytes, length));
    if (const auto* header = std::get_if<ProxyHeader>(&result)) {
        self.finish(pending, *header);
        return;
    }
    if (const auto* error = std::get_if<ProxyHeaderError>(&result)) {
        spdlog::debug("PROXY header from {} refused: {}", pending->proxy.to_string(),
                      to_string(*error));
        switch (*error) {
            case ProxyHeaderError::not_proxy_header:
                return self.refuse(pending, self.counters.missing);
            case ProxyHeaderError::malformed:
                return self.refuse(pending, self.counters.malformed);
            case ProxyHeaderError::too_long:
                return self.refuse(pending, self.counters.too_long);
        }
    }
}

void ProxyHeaderReader::on_event(bufferevent*, short events, void* context) {
    auto* pending = static_cast<Pending*>(context);
    if ((events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) != 0) {
        pending->owner->refuse(pending, pending->owner->counters.closed_early);
    }
}

void ProxyHeaderReader::on_deadline(evutil_socket_t, short, void* context) {
    auto* pending = static_cast<Pending*>(context);
    pending->owner->refuse(pending, pending->owner->counters.timeout);
}

void ProxyHeaderReader::refuse(Pending* pending, std::uint64_t& counter) {
    ++counter;
    pending_.erase(pending);  // closes the socket
}

// The header is consumed; the socket goes on, with what followed the header still in its
// input, as a connection from the client the header names (§2.1, §2.2: with none, the
// connection's own addresses stand).
void ProxyHeaderReader::finish(Pending* pending, const ProxyHeader& header) {
    ++counters.accepted;
    bufferevent* socket = pending->socket;
    pending->socket = nullptr;
    bufferevent_disable(socket, EV_READ);
    bufferevent_setcb(socket, nullptr, nullptr, nullptr, nullptr);
    bufferevent_setwatermark(socket, EV_READ, 0, 0);
    evbuffer_drain(bufferevent_get_input(socket), header.size);
    const TransportAddress client = header.source.value_or(pending->proxy);
    pending_.erase(pending);
    done_(socket, client);
}

}  // namespace hearth::relay
