#include "bench/load/load_traffic.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "bench/load/load_bounce_abi.h"
#include "relay/stun/attributes.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/message_builder.h"

namespace hearth::load {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t packet_magic = 0x484C4431;  // "HLD1"
constexpr std::size_t batch = 32;
constexpr std::uint32_t echo_tag = UINT32_MAX;

// What each packet's payload starts with; the rest is filler up to --payload.
struct PacketHeader {
    std::uint32_t magic;
    std::uint32_t sender;
    std::uint64_t sent_ns;
    std::uint32_t sequence;
};
static_assert(sizeof(PacketHeader) <= min_payload_bytes);
// load_bounce.bpf.c reads the magic and rewrites the send time in the kernel.
static_assert(packet_magic == HEARTH_BOUNCE_PACKET_MAGIC && offsetof(PacketHeader, magic) == 0 &&
              offsetof(PacketHeader, sent_ns) == HEARTH_BOUNCE_SENT_NS_OFFSET);

// The payload of what a client received: ChannelData, a Data indication's DATA, or
// without TURN (--raw) the datagram itself.
std::optional<stun::Bytes> payload_of(stun::Bytes datagram, bool raw) {
    if (raw) {
        return datagram;
    }
    if (const auto channel = stun::parse_channel_data(datagram)) {
        return channel->payload;
    }
    const auto message = stun::MessageView::parse(datagram);
    if (message && message->method() == stun::Method::data &&
        message->message_class() == stun::MessageClass::indication) {
        return message->find(stun::attribute::data);
    }
    return std::nullopt;
}

}  // namespace

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
}

std::size_t build_packet(const LoadOptions& options, const LoadClient& client, std::uint32_t sender,
                         std::uint32_t sequence, std::span<std::byte, max_datagram> out) {
    std::array<std::byte, max_datagram> payload{};
    const PacketHeader header{packet_magic, sender, now_ns(), sequence};
    std::memcpy(payload.data(), &header, sizeof header);
    const std::size_t payload_size = options.payload_bytes;
    if (options.raw) {
        std::memcpy(out.data(), payload.data(), payload_size);
        return payload_size;
    }
    if (options.mode == DataMode::channel) {
        // RFC 8656 §12.5: over a stream ChannelData is padded to a multiple of four.
        const std::size_t padded =
            client.connection->is_stream() ? (payload_size + 3) & ~std::size_t{3} : payload_size;
        std::memset(out.data() + stun::channel_data_header_size + payload_size, 0,
                    padded - payload_size);
        stun::write_channel_data_header(out.first<stun::channel_data_header_size>(), client.channel,
                                        static_cast<std::uint16_t>(payload_size));
        std::memcpy(out.data() + stun::channel_data_header_size, payload.data(), payload_size);
        return stun::channel_data_header_size + padded;
    }
    stun::TransactionId id{};
    std::memcpy(id.data(), &header.sent_ns, sizeof header.sent_ns);
    std::memcpy(id.data() + 8, &sequence, sizeof sequence);
    stun::MessageBuilder builder(out, stun::Method::send, stun::MessageClass::indication, id);
    builder.add_xor_address(stun::attribute::xor_peer_address, client.peer);
    builder.add(stun::attribute::data, stun::Bytes(payload.data(), payload_size));
    return builder.finish().size();
}

EchoPeer::EchoPeer(const IpAddress& local, std::uint16_t port, std::string& error) {
    address_ = TransportAddress{local, port};
    sockaddr_storage storage{};
    socklen_t length = address_.to_sockaddr(storage);
    fd_ = socket(storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int buffer_bytes = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
        error = std::string("echo peer socket: ") + std::strerror(errno);
        return;
    }
    address_ = *TransportAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

EchoPeer::~EchoPeer() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::uint64_t EchoPeer::echo_waiting() {
    static std::array<std::array<std::byte, max_datagram>, 64> buffers;
    std::array<mmsghdr, 64> messages{};
    std::array<iovec, 64> vectors{};
    std::array<sockaddr_storage, 64> sources{};
    std::uint64_t total = 0;
    for (;;) {
        for (std::size_t i = 0; i < messages.size(); ++i) {
            vectors[i] = {buffers[i].data(), buffers[i].size()};
            messages[i].msg_hdr = {};
            messages[i].msg_hdr.msg_name = &sources[i];
            messages[i].msg_hdr.msg_namelen = sizeof sources[i];
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        const int received = recvmmsg(fd_, messages.data(), messages.size(), 0, nullptr);
        if (received <= 0) {
            return total;
        }
        // The same headers send each datagram back to where it came from.
        for (int i = 0; i < received; ++i) {
            vectors[i].iov_len = messages[i].msg_len;
        }
        sendmmsg(fd_, messages.data(), static_cast<unsigned>(received), 0);
        total += static_cast<std::uint64_t>(received);
    }
}

TrafficResult run_traffic(const LoadOptions& options, std::vector<LoadClient>& clients,
                          EchoPeer* echo) {
    TrafficResult result;
    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    for (std::uint32_t i = 0; i < clients.size(); ++i) {
        epoll_event event{EPOLLIN, {.u32 = i}};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, clients[i].connection->fd(), &event);
    }
    if (echo != nullptr) {
        epoll_event event{EPOLLIN, {.u32 = echo_tag}};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, echo->fd(), &event);
    }

    // Each client sends every `interval`, the clients' starts spread over one interval.
    const auto interval = std::chrono::nanoseconds(1'000'000'000 / options.rate_per_allocation);
    const auto start = Clock::now();
    const auto stop_sending = start + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(options.duration_seconds));
    std::vector<Clock::time_point> next_send(clients.size());
    std::vector<std::uint32_t> sequence(clients.size(), 0);
    for (std::size_t i = 0; i < clients.size(); ++i) {
        next_send[i] = start + interval * i / clients.size();
    }

    static std::array<std::array<std::byte, max_datagram>, batch> buffers;
    std::array<stun::Bytes, batch> outgoing;
    std::array<epoll_event, 256> events{};
    auto receive_from = [&](std::uint32_t index) {
        const std::uint64_t arrived_ns = now_ns();
        clients[index].connection->receive([&](stun::Bytes datagram) {
            const auto payload = payload_of(datagram, options.raw);
            PacketHeader header{};
            if (!payload || payload->size() < sizeof header) {
                return;
            }
            std::memcpy(&header, payload->data(), sizeof header);
            if (header.magic != packet_magic) {
                return;
            }
            ++result.client_received;
            result.latency.record((arrived_ns - header.sent_ns) / 1000);
        });
    };

    bool sending = true;
    auto drain_until = stop_sending + std::chrono::seconds(1);
    for (;;) {
        const auto now = Clock::now();
        if (sending && now >= stop_sending) {
            sending = false;
            result.seconds = std::chrono::duration<double>(now - start).count();
        }
        if (!sending && (now >= drain_until || result.client_received >= result.sent)) {
            break;
        }
        if (sending) {
            for (std::uint32_t i = 0; i < clients.size(); ++i) {
                std::size_t due = 0;
                while (next_send[i] <= now && due < batch) {
                    const std::size_t size =
                        build_packet(options, clients[i], i, sequence[i]++, buffers[due]);
                    outgoing[due] = stun::Bytes(buffers[due].data(), size);
                    next_send[i] += interval;
                    ++due;
                }
                if (due > 0) {
                    clients[i].connection->send(std::span(outgoing.data(), due));
                    result.sent += due;
                }
            }
        }
        const int ready = epoll_wait(epoll_fd, events.data(), events.size(), 1);
        for (int e = 0; e < ready; ++e) {
            if (events[e].data.u32 == echo_tag) {
                result.peer_received += echo->echo_waiting();
            } else {
                receive_from(events[e].data.u32);
            }
        }
    }
    ::close(epoll_fd);

    result.relayed_packets = echo != nullptr ? result.peer_received + result.client_received
                                             : 2 * result.client_received;
    result.relayed_bytes = result.relayed_packets * options.payload_bytes;
    return result;
}

}  // namespace hearth::load
