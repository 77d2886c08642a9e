// UdpSendBatch against real loopback sockets: what is queued arrives, in order, and a
// datagram the kernel refuses is counted and skipped without holding back the rest.

#include "relay/net/udp_send_batch.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace hearth::relay {
namespace {

class LoopbackSocket {
  public:
    LoopbackSocket() {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in any{};
        any.sin_family = AF_INET;
        any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&any), sizeof any);
        // Bounds every receive below: a datagram that never comes fails, it does not hang.
        timeval timeout{2, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    ~LoopbackSocket() { ::close(fd_); }
    LoopbackSocket(const LoopbackSocket&) = delete;
    LoopbackSocket& operator=(const LoopbackSocket&) = delete;

    int fd() const { return fd_; }
    TransportAddress address() const {
        sockaddr_storage storage{};
        socklen_t length = sizeof storage;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length);
        return *TransportAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
    }
    std::string receive() const {
        std::string buffer(70000, '\0');
        const ssize_t length = recv(fd_, buffer.data(), buffer.size(), 0);
        buffer.resize(length < 0 ? 0 : static_cast<std::size_t>(length));
        return buffer;
    }
    bool nothing_waiting() const {
        char byte;
        return recv(fd_, &byte, 1, MSG_DONTWAIT | MSG_PEEK) < 0;
    }

  private:
    int fd_ = -1;
};

stun::Bytes bytes_of(const std::string& text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

TEST(UdpSendBatch, NothingLeavesBeforeFlushThenAllInOrder) {
    LoopbackSocket sender;
    LoopbackSocket client_a;
    LoopbackSocket client_b;
    UdpSendBatch batch;
    batch.set_socket(sender.fd());

    const std::vector<std::string> to_a{"first to a", "second to a"};
    EXPECT_EQ(batch.queue(client_a.address(), bytes_of(to_a[0])), 0u);
    EXPECT_EQ(batch.queue(client_b.address(), bytes_of("only to b")), 0u);
    EXPECT_EQ(batch.queue(client_a.address(), bytes_of(to_a[1])), 0u);
    EXPECT_FALSE(batch.empty());
    EXPECT_TRUE(client_a.nothing_waiting());

    EXPECT_EQ(batch.flush(), 0u);
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(client_a.receive(), to_a[0]);
    EXPECT_EQ(client_a.receive(), to_a[1]);
    EXPECT_EQ(client_b.receive(), "only to b");
}

TEST(UdpSendBatch, SendsWhatIsQueuedWhenTheDatagramSlotsRunOut) {
    LoopbackSocket sender;
    LoopbackSocket client;
    UdpSendBatch batch;
    batch.set_socket(sender.fd());

    for (std::size_t i = 0; i <= UdpSendBatch::capacity_datagrams; ++i) {
        EXPECT_EQ(batch.queue(client.address(), bytes_of("datagram " + std::to_string(i))), 0u);
    }
    // The first capacity_datagrams left when the last one needed a slot.
    for (std::size_t i = 0; i < UdpSendBatch::capacity_datagrams; ++i) {
        EXPECT_EQ(client.receive(), "datagram " + std::to_string(i));
    }
    EXPECT_TRUE(client.nothing_waiting());
    batch.flush();
    EXPECT_EQ(client.receive(), "datagram " + std::to_string(UdpSendBatch::capacity_datagrams));
}

TEST(UdpSendBatch, SendsWhatIsQueuedWhenTheBytesRunOut) {
    LoopbackSocket sender;
    LoopbackSocket client;
    int buffer = 1 << 20;
    setsockopt(client.fd(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    UdpSendBatch batch;
    batch.set_socket(sender.fd());

    const std::string large(40000, 'x');
    EXPECT_EQ(batch.queue(client.address(), bytes_of(large)), 0u);
    EXPECT_EQ(batch.queue(client.address(), bytes_of(std::string(40000, 'y'))), 0u);
    EXPECT_EQ(client.receive(), large);
    EXPECT_TRUE(client.nothing_waiting());
    batch.flush();
    EXPECT_EQ(client.receive(), std::string(40000, 'y'));
}

TEST(UdpSendBatch, ARefusedDatagramIsCountedAndTheRestStillLeave) {
    LoopbackSocket sender;
    LoopbackSocket client;
    UdpSendBatch batch;
    batch.set_socket(sender.fd());

    // An IPv6 destination on an IPv4 socket: the kernel refuses that one datagram.
    const auto unreachable = *TransportAddress::parse("[::1]:9");
    batch.queue(client.address(), bytes_of("before"));
    batch.queue(unreachable, bytes_of("refused"));
    batch.queue(client.address(), bytes_of("after"));

    EXPECT_EQ(batch.flush(), 1u);
    EXPECT_EQ(client.receive(), "before");
    EXPECT_EQ(client.receive(), "after");
    EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace hearth::relay
