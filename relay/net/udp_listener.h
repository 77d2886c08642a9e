#pragma once

// A UDP socket clients send STUN and ChannelData to (RFC 8656 §3.1). Each worker binds
// its own with SO_REUSEPORT; the kernel keeps a client's datagrams on one socket.

#include <event2/event.h>
#include <sys/socket.h>

#include <array>
#include <string>

#include "relay/net/client_link.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/clock.h"
#include "relay/net/udp_send_batch.h"

namespace hearth::relay {

class Worker;

class UdpListener final : public ClientLink {
  public:
    UdpListener(Worker& worker, TransportAddress address);
    ~UdpListener() override;
    UdpListener(const UdpListener&) = delete;
    UdpListener& operator=(const UdpListener&) = delete;

    bool open(std::string& error);
    bool send_to_client(const TransportAddress& client, stun::Bytes message) override;
    bool is_stream() const override { return false; }
    void hand_in(const turn::FiveTuple& tuple, stun::Bytes request) override;
    // Sends what send_to_client queued during this turn of the loop (Worker::run).
    void flush_sends();

    std::uint64_t dropped_not_stun() const { return dropped_not_stun_; }
    std::uint64_t dropped_malformed() const { return dropped_malformed_; }
    std::uint64_t dropped_truncated() const { return dropped_truncated_; }
    std::uint64_t send_failures() const { return send_failures_; }

  private:
    static void on_readable(evutil_socket_t fd, short events, void* context);
    void read_batch();
    void handle_datagram(const TransportAddress& client, stun::Bytes datagram,
                         const turn::Now& now);

    // recvmmsg batch: enough to drain a burst per wake-up without starving other sockets.
    static constexpr std::size_t batch_size = 32;
    static constexpr std::size_t datagram_capacity = 2048;

    Worker& worker_;
    TransportAddress address_;
    int fd_ = -1;
    event* read_event_ = nullptr;
    std::array<std::array<std::byte, datagram_capacity>, batch_size> buffers_{};
    std::array<sockaddr_storage, batch_size> sources_{};
    UdpSendBatch sends_;
    std::uint64_t dropped_not_stun_ = 0;
    std::uint64_t dropped_malformed_ = 0;
    std::uint64_t dropped_truncated_ = 0;
    std::uint64_t send_failures_ = 0;
};

// Opens a UDP or TCP socket bound to `address` with SO_REUSEPORT, non-blocking.
int open_bound_socket(const TransportAddress& address, int type, std::string& error);

}  // namespace hearth::relay
