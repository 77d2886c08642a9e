#include "relay/relay_socket_pool.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "relay/client_link.h"
#include "relay/worker.h"

namespace hearth::relay {

// One relayed transport address: its socket, its read event and its allocation.
struct RelaySocketPool::RelaySocket {
    RelaySocketPool* pool = nullptr;
    turn::Allocation* allocation = nullptr;
    int fd = -1;
    event* read_event = nullptr;
};

RelaySocketPool::RelaySocketPool(Worker& worker, std::optional<IpAddress> ipv4,
                                 std::optional<IpAddress> ipv6, RelayPortRange ports)
    : worker_(worker),
      ipv4_(ipv4),
      ipv6_(ipv6),
      ports_(ports),
      port_picker_(static_cast<std::uint32_t>(std::random_device{}())) {}

bool RelaySocketPool::family_available(AddressFamily family) const {
    return family == AddressFamily::ipv4 ? ipv4_.has_value() : ipv6_.has_value();
}

int RelaySocketPool::bind_socket(const IpAddress& address, bool even_port,
                                 std::uint16_t& port_out) {
    const int family = address.family == AddressFamily::ipv4 ? AF_INET : AF_INET6;
    const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;  // out of descriptors: the caller answers 508
    }
    // Random start, then a bounded linear probe over the configured range.
    const std::uint32_t span = static_cast<std::uint32_t>(ports_.max - ports_.min) + 1;
    std::uint32_t offset = port_picker_() % span;
    constexpr int max_attempts = 64;
    for (int attempt = 0; attempt < max_attempts; ++attempt, offset = (offset + 1) % span) {
        auto port = static_cast<std::uint16_t>(ports_.min + offset);
        if (even_port && (port % 2) != 0) {
            continue;
        }
        TransportAddress candidate{address, port};
        sockaddr_storage storage;
        const socklen_t length = candidate.to_sockaddr(storage);
        if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0) {
            port_out = port;
            return fd;
        }
        if (errno != EADDRINUSE) {
            break;
        }
    }
    ::close(fd);
    return -1;
}

std::optional<turn::RelayEndpoint> RelaySocketPool::open(AddressFamily family, bool even_port,
                                                         turn::Allocation& owner) {
    const auto& address = family == AddressFamily::ipv4 ? ipv4_ : ipv6_;
    if (!address) {
        return std::nullopt;
    }
    std::uint16_t port = 0;
    const int fd = bind_socket(*address, even_port, port);
    if (fd < 0) {
        return std::nullopt;
    }
    auto* relay = new RelaySocket{this, &owner, fd, nullptr};
    relay->read_event =
        event_new(worker_.base(), fd, EV_READ | EV_PERSIST, &RelaySocketPool::on_readable, relay);
    if (relay->read_event == nullptr || event_add(relay->read_event, nullptr) != 0) {
        if (relay->read_event != nullptr) {
            event_free(relay->read_event);
        }
        ::close(fd);
        delete relay;
        return std::nullopt;
    }
    return turn::RelayEndpoint{TransportAddress{*address, port}, relay};
}

void RelaySocketPool::close(turn::RelayEndpoint& endpoint) {
    auto* relay = static_cast<RelaySocket*>(endpoint.io_handle);
    if (relay == nullptr) {
        return;
    }
    event_free(relay->read_event);
    ::close(relay->fd);
    delete relay;
    endpoint.io_handle = nullptr;
}

void RelaySocketPool::send_to_peer(const turn::PeerSend& send) {
    const auto* relay = static_cast<const RelaySocket*>(send.relay->io_handle);
    sockaddr_storage destination;
    const socklen_t length = send.peer.to_sockaddr(destination);
    if (sendto(relay->fd, send.payload.data(), send.payload.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&destination), length) < 0) {
        ++send_failures_;
    }
}

void RelaySocketPool::on_readable(evutil_socket_t fd, short, void* context) {
    auto* relay = static_cast<RelaySocket*>(context);
    Worker& worker = relay->pool->worker_;
    turn::Allocation& allocation = *relay->allocation;
    auto* link = static_cast<ClientLink*>(allocation.client_link);
    const auto now = worker.now().monotonic;
    const auto buffer = worker.peer_buffer();
    // Bounded so one busy peer cannot starve the rest of the loop.
    constexpr int max_datagrams_per_wakeup = 32;
    for (int i = 0; i < max_datagrams_per_wakeup; ++i) {
        sockaddr_storage source;
        socklen_t source_length = sizeof source;
        const ssize_t received = recvfrom(fd, buffer.data() + turn::peer_data_headroom,
                                          Worker::max_datagram, MSG_DONTWAIT | MSG_TRUNC,
                                          reinterpret_cast<sockaddr*>(&source), &source_length);
        if (received < 0) {
            return;
        }
        if (static_cast<std::size_t>(received) > Worker::max_datagram) {
            continue;  // too large to wrap in a STUN message: dropped
        }
        const auto peer = TransportAddress::from_sockaddr(
            reinterpret_cast<const sockaddr*>(&source), source_length);
        if (!peer) {
            continue;
        }
        const auto message = worker.server().wrap_peer_datagram(
            allocation, *peer, buffer, static_cast<std::size_t>(received), now, link->is_stream());
        if (!message.empty()) {
            link->send_to_client(allocation.five_tuple().client, message);
        }
    }
}

}  // namespace hearth::relay
