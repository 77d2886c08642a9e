#include "relay/net/relay_socket_pool.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "relay/net/descriptor_limit.h"
#include "relay/net/socket_options.h"

// One relayed transport address: its socket, its read event and its allocation. Declared
// by the state machine (allocation.h), which only ever holds a pointer to it.
struct hearth::turn::RelaySocket {
    relay::RelaySocketPool* pool = nullptr;
    turn::Allocation* allocation = nullptr;
    int fd = -1;  // UDP relays
    event* read_event = nullptr;
    relay::TcpRelay::RelayedAddress* tcp_relayed = nullptr;  // RFC 6062 relays
};

namespace hearth::relay {

using turn::RelaySocket;

RelaySocketPool::RelaySocketPool(event_base* base, const LoopClock& clock,
                                 std::optional<IpAddress> ipv4, std::optional<IpAddress> ipv6,
                                 RelayPortRange ports, TcpRelay& tcp_relay,
                                 TcpPortRegistry& tcp_ports, turn::LiveRelayedPorts& live_ports)
    : base_(base),
      clock_(clock),
      ipv4_(ipv4),
      ipv6_(ipv6),
      ports_(ports),
      port_picker_(static_cast<std::uint32_t>(std::random_device{}())),
      tcp_relay_(tcp_relay),
      tcp_ports_(tcp_ports),
      live_ports_(live_ports),
      peer_buffers_(peer_batch * peer_buffer_size) {}

bool RelaySocketPool::family_available(AddressFamily family) const {
    return family == AddressFamily::ipv4 ? ipv4_.has_value() : ipv6_.has_value();
}

int RelaySocketPool::bind_socket(const IpAddress& address, int type, bool even_port,
                                 std::uint16_t& port_out) {
    const bool stream = type == SOCK_STREAM;
    // RFC 6062 §5.2: Connect's outgoing connections leave from the relayed TCP port itself.
    const int fd =
        open_socket(address.family, type, stream ? PortSharing::shared : PortSharing::exclusive);
    if (fd < 0) {
        if (means_out_of_descriptors(errno)) {
            ++out_of_descriptors_;
        }
        return -1;  // the caller answers 508
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
        if (stream && !tcp_ports_.claim(port)) {
            continue;
        }
        if (bind_to(fd, TransportAddress{address, port})) {
            port_out = port;
            return fd;
        }
        const int bind_error = errno;
        if (stream) {
            tcp_ports_.release(port);
        }
        if (bind_error != EADDRINUSE) {
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
    const bool tcp = owner.relay_protocol == turn::RelayProtocol::tcp;
    std::uint16_t port = 0;
    const int fd = bind_socket(*address, tcp ? SOCK_STREAM : SOCK_DGRAM, even_port, port);
    if (fd < 0) {
        return std::nullopt;
    }
    const TransportAddress relayed{*address, port};
    auto* relay = new RelaySocket{this, &owner, -1, nullptr, nullptr};
    if (tcp) {
        relay->tcp_relayed = tcp_relay_.open(fd, relayed, owner);
        if (relay->tcp_relayed == nullptr) {
            delete relay;
            return std::nullopt;
        }
        live_ports_.add(family, owner.relay_protocol, port);
        return turn::RelayEndpoint{relayed, relay};
    }
    relay->fd = fd;
    relay->read_event =
        event_new(base_, fd, EV_READ | EV_PERSIST, &RelaySocketPool::on_readable, relay);
    if (relay->read_event == nullptr || event_add(relay->read_event, nullptr) != 0) {
        if (relay->read_event != nullptr) {
            event_free(relay->read_event);
        }
        ::close(fd);
        delete relay;
        return std::nullopt;
    }
    live_ports_.add(family, owner.relay_protocol, port);
    return turn::RelayEndpoint{relayed, relay};
}

void RelaySocketPool::close(turn::RelayEndpoint& endpoint) {
    auto* relay = endpoint.socket;
    if (relay == nullptr) {
        return;
    }
    live_ports_.remove(
        endpoint.address.ip.family,
        relay->tcp_relayed != nullptr ? turn::RelayProtocol::tcp : turn::RelayProtocol::udp,
        endpoint.address.port);
    if (relay->tcp_relayed != nullptr) {
        tcp_relay_.close(relay->tcp_relayed);
    } else {
        event_free(relay->read_event);
        ::close(relay->fd);
    }
    delete relay;
    endpoint.socket = nullptr;
}

void RelaySocketPool::connect(const turn::TurnServer::TcpConnect& request) {
    const auto* endpoint = request.allocation->relay_for(request.peer.ip.family);
    tcp_relay_.connect(endpoint->socket->tcp_relayed, request);
}

void RelaySocketPool::send_to_peer(const turn::PeerSend& send) {
    const auto* relay = send.relay->socket;
    sockaddr_storage destination;
    const socklen_t length = send.peer.to_sockaddr(destination);
    if (sendto(relay->fd, send.payload.data(), send.payload.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&destination), length) < 0) {
        ++send_failures_;
    }
}

void RelaySocketPool::on_readable(evutil_socket_t, short, void* context) {
    auto* relay = static_cast<RelaySocket*>(context);
    relay->pool->read_peer_datagrams(*relay);
}

// The packet path from a peer: no heap, no lock, no log. One recvmmsg a wakeup, at most a
// batch: one syscall for what is waiting (not a final EAGAIN per wakeup), and one busy
// peer cannot starve the rest of the loop.
void RelaySocketPool::read_peer_datagrams(RelaySocket& relay) {
    turn::Allocation& allocation = *relay.allocation;
    turn::ClientLink& link = *allocation.client_link;
    std::array<mmsghdr, peer_batch> headers{};
    std::array<iovec, peer_batch> vectors{};
    std::array<sockaddr_storage, peer_batch> sources;
    for (std::size_t i = 0; i < peer_batch; ++i) {
        vectors[i] = {peer_buffer(i).data() + turn::peer_data_headroom, max_datagram};
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
        headers[i].msg_hdr.msg_name = &sources[i];
        headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int received = recvmmsg(relay.fd, headers.data(), peer_batch, MSG_DONTWAIT, nullptr);
    if (received <= 0) {
        return;
    }
    const auto now = clock_.now().monotonic;
    for (std::size_t i = 0; i < static_cast<std::size_t>(received); ++i) {
        const msghdr& header = headers[i].msg_hdr;
        if ((header.msg_flags & MSG_TRUNC) != 0) {
            ++allocation.peer_to_client.dropped_malformed;  // too large to wrap: counted
            continue;
        }
        const auto peer = TransportAddress::from_sockaddr(
            reinterpret_cast<const sockaddr*>(header.msg_name), header.msg_namelen);
        if (!peer) {
            continue;
        }
        const auto message = server_->wrap_peer_datagram(allocation, *peer, peer_buffer(i),
                                                         headers[i].msg_len, now, link.is_stream());
        if (!message.empty() && !link.send_to_client(allocation.five_tuple().client, message)) {
            ++allocation.peer_to_client.dropped_queue_full;
        }
    }
}

}  // namespace hearth::relay
