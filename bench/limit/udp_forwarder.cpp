// The reference for hearth's data plane: the least a UDP relay can do. Clients send to
// --listen; each datagram goes on to --peer through a second socket; what the peer sends
// back returns to the client named in the datagram (hearth-load's packet header: the
// sender's index at byte 4). Only recvmmsg and sendmmsg, batches of 64, one thread, no
// TURN. Its packets per CPU-second are what the kernel allows a relay on this machine.
//   udp-forwarder --listen 127.0.0.1:40000 --peer 127.0.0.1:40001

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "relay/stun/transport_address.h"

namespace {

using hearth::TransportAddress;

constexpr std::size_t batch = 64;
constexpr std::size_t max_datagram = 2048;
constexpr std::size_t max_clients = 1 << 20;

volatile std::sig_atomic_t stopping = 0;

struct Batch {
    std::array<std::array<std::byte, max_datagram>, batch> buffers;
    std::array<mmsghdr, batch> headers{};
    std::array<iovec, batch> vectors{};
    std::array<sockaddr_storage, batch> addresses{};

    // Ready to receive: every header points at its buffer and address slot.
    void arm() {
        for (std::size_t i = 0; i < batch; ++i) {
            vectors[i] = {buffers[i].data(), buffers[i].size()};
            headers[i].msg_hdr = {};
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
            headers[i].msg_hdr.msg_name = &addresses[i];
            headers[i].msg_hdr.msg_namelen = sizeof addresses[i];
        }
    }
};

int bound_socket(const TransportAddress& address) {
    sockaddr_storage storage{};
    const socklen_t length = address.to_sockaddr(storage);
    const int fd = socket(storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int buffer_bytes = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        std::perror("udp-forwarder: bind");
        std::exit(1);
    }
    return fd;
}

std::uint32_t sender_of(const mmsghdr& header, const Batch& from, std::size_t i) {
    std::uint32_t sender = UINT32_MAX;
    if (header.msg_len >= 8) {
        std::memcpy(&sender, from.buffers[i].data() + 4, sizeof sender);
    }
    return sender;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<TransportAddress> listen;
    std::optional<TransportAddress> peer;
    bool usage_error = argc != 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--listen") {
            listen = TransportAddress::parse(argv[i + 1]);
        } else if (flag == "--peer") {
            peer = TransportAddress::parse(argv[i + 1]);
        } else {
            usage_error = true;
        }
    }
    if (usage_error || !listen || !peer) {
        std::fprintf(stderr, "usage: udp-forwarder --listen HOST:PORT --peer HOST:PORT\n");
        return 2;
    }
    std::signal(SIGINT, [](int) { stopping = 1; });
    std::signal(SIGTERM, [](int) { stopping = 1; });
    const int client_side = bound_socket(*listen);
    const int peer_side = bound_socket(TransportAddress{listen->ip, 0});
    sockaddr_storage peer_address{};
    const socklen_t peer_length = peer->to_sockaddr(peer_address);
    std::vector<sockaddr_storage> clients(max_clients);
    std::vector<socklen_t> client_lengths(max_clients, 0);

    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    for (const int fd : {client_side, peer_side}) {
        epoll_event event{EPOLLIN, {.fd = fd}};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    }
    std::printf("udp-forwarder ready: %s to %s\n", listen->to_string().c_str(),
                peer->to_string().c_str());
    std::fflush(stdout);
    static Batch in;
    std::array<epoll_event, 2> events{};
    while (stopping == 0) {
        const int ready = epoll_wait(epoll_fd, events.data(), events.size(), 200);
        for (int e = 0; e < ready; ++e) {
            const int fd = events[e].data.fd;
            in.arm();
            const int received = recvmmsg(fd, in.headers.data(), batch, MSG_DONTWAIT, nullptr);
            if (received <= 0) {
                continue;
            }
            for (int i = 0; i < received; ++i) {
                auto& header = in.headers[static_cast<std::size_t>(i)];
                in.vectors[static_cast<std::size_t>(i)].iov_len = header.msg_len;
                const std::uint32_t sender = sender_of(header, in, static_cast<std::size_t>(i));
                if (fd == client_side) {
                    if (sender < max_clients) {  // remember the way back
                        std::memcpy(&clients[sender], header.msg_hdr.msg_name,
                                    header.msg_hdr.msg_namelen);
                        client_lengths[sender] = header.msg_hdr.msg_namelen;
                    }
                    std::memcpy(header.msg_hdr.msg_name, &peer_address, peer_length);
                    header.msg_hdr.msg_namelen = peer_length;
                } else if (sender < max_clients && client_lengths[sender] != 0) {
                    std::memcpy(header.msg_hdr.msg_name, &clients[sender], client_lengths[sender]);
                    header.msg_hdr.msg_namelen = client_lengths[sender];
                }
            }
            sendmmsg(fd == client_side ? peer_side : client_side, in.headers.data(),
                     static_cast<unsigned>(received), 0);
        }
    }
    ::close(epoll_fd);
    ::close(client_side);
    ::close(peer_side);
    return 0;
}
