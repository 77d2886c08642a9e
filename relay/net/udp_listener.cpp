#include "relay/net/udp_listener.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relay/stun/channel_data.h"
#include "relay/stun/message.h"
#include "relay/net/udp_socket_drops.h"
#include "relay/net/worker.h"

namespace hearth::relay {

int open_bound_socket(const TransportAddress& address, int type, std::string& error) {
    const int family = address.ip.family == AddressFamily::ipv4 ? AF_INET : AF_INET6;
    const int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    sockaddr_storage storage;
    const socklen_t length = address.to_sockaddr(storage);
    if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        error = "bind " + address.to_string() + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

UdpListener::UdpListener(Worker& worker, TransportAddress address)
    : worker_(worker), address_(address) {}

UdpListener::~UdpListener() {
    if (fd_ >= 0) {
        flush_sends();
    }
    if (read_event_ != nullptr) {
        event_free(read_event_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool UdpListener::open(std::string& error) {
    fd_ = open_bound_socket(address_, SOCK_DGRAM, error);
    if (fd_ < 0) {
        return false;
    }
    sends_.set_socket(fd_);
    // Every client of this worker arrives here: room for bursts, so the kernel does not
    // drop while the loop is busy (udp_socket_drops() tells if it still does).
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &listener_receive_buffer_bytes,
               sizeof listener_receive_buffer_bytes);
    int granted = 0;
    socklen_t granted_length = sizeof granted;
    getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted, &granted_length);
    if (granted / 2 < listener_receive_buffer_bytes) {  // Linux reports twice the size set
        spdlog::info("udp {}: receive buffer {} bytes, not the {} asked: raise net.core.rmem_max",
                     address_.to_string(), granted / 2, listener_receive_buffer_bytes);
    }
    read_event_ =
        event_new(worker_.base(), fd_, EV_READ | EV_PERSIST, &UdpListener::on_readable, this);
    return read_event_ != nullptr && event_add(read_event_, nullptr) == 0;
}

void UdpListener::on_readable(evutil_socket_t, short, void* context) {
    static_cast<UdpListener*>(context)->read_batch();
}

void UdpListener::read_batch() {
    std::array<mmsghdr, batch_size> headers{};
    std::array<iovec, batch_size> vectors{};
    for (std::size_t i = 0; i < batch_size; ++i) {
        vectors[i] = {buffers_[i].data(), datagram_capacity};
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
        headers[i].msg_hdr.msg_name = &sources_[i];
        headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int received = recvmmsg(fd_, headers.data(), batch_size, MSG_DONTWAIT, nullptr);
    if (received <= 0) {
        return;
    }
    const turn::Now now = worker_.now();  // once per batch
    for (int i = 0; i < received; ++i) {
        const auto& header = headers[static_cast<std::size_t>(i)].msg_hdr;
        if ((header.msg_flags & MSG_TRUNC) != 0) {
            ++dropped_truncated_;
            continue;
        }
        const auto client = TransportAddress::from_sockaddr(
            reinterpret_cast<const sockaddr*>(header.msg_name), header.msg_namelen);
        if (!client) {
            continue;
        }
        handle_datagram(*client,
                        stun::Bytes(buffers_[static_cast<std::size_t>(i)].data(),
                                    headers[static_cast<std::size_t>(i)].msg_len),
                        now);
    }
}

void UdpListener::handle_datagram(const TransportAddress& client, stun::Bytes datagram,
                                  const turn::Now& now) {
    const turn::FiveTuple tuple{client, address_, turn::ClientTransport::udp};
    auto& server = worker_.server();
    if (stun::looks_like_channel_data(datagram)) {
        if (const auto send = server.handle_channel_data(tuple, datagram, now.monotonic)) {
            worker_.relay_sockets().send_to_peer(*send);
        }
        return;
    }
    if (!stun::looks_like_stun(datagram)) {
        ++dropped_not_stun_;
        return;
    }
    const auto message = stun::MessageView::parse(datagram);
    if (!message) {
        // RFC 8489 §6.3: a message that is not well-formed STUN is discarded silently.
        ++dropped_malformed_;
        return;
    }
    const auto outcome = server.handle_stun(*message, tuple, now, this);
    if (outcome.waiting_for) {
        worker_.set_aside(datagram, tuple, *this);
        return;
    }
    if (!outcome.response.empty()) {
        send_to_client(client, outcome.response);
    }
    if (outcome.to_peer) {
        worker_.relay_sockets().send_to_peer(*outcome.to_peer);
    }
}

void UdpListener::hand_in(const turn::FiveTuple& tuple, stun::Bytes request) {
    handle_datagram(tuple.client, request, worker_.now());
}

bool UdpListener::send_to_client(const TransportAddress& client, stun::Bytes message) {
    // Queued, not sent: Worker::run flushes at the end of the loop's turn, so a kernel
    // refusal is counted on the listener, not on the allocation that queued.
    send_failures_ += sends_.queue(client, message);
    return true;
}

void UdpListener::flush_sends() {
    send_failures_ += sends_.flush();
}

}  // namespace hearth::relay
