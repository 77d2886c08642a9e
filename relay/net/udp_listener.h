#pragma once

// A UDP socket clients send STUN and ChannelData to (RFC 8656 §3.1). Each worker binds
// its own with SO_REUSEPORT; the kernel keeps a client's datagrams on one socket. What
// arrives goes to the dispatcher; what goes back to clients leaves in one sendmmsg at the
// end of the loop's turn.

#include <event2/event.h>
#include <sys/socket.h>

#include <array>
#include <string>

#include "relay/net/client_dispatcher.h"
#include "relay/net/loop_clock.h"
#include "relay/net/udp_send_batch.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/client_link.h"

namespace hearth::relay {

class UdpListener final : public turn::ClientLink {
  public:
    UdpListener(event_base* base, const LoopClock& clock, ClientDispatcher& dispatcher,
                TransportAddress address);
    ~UdpListener() override;
    UdpListener(const UdpListener&) = delete;
    UdpListener& operator=(const UdpListener&) = delete;

    bool open(std::string& error);
    // Queued, not sent: the batch leaves at the end of this turn of the loop.
    bool send_to_client(const TransportAddress& client, stun::Bytes message) override;
    bool is_stream() const override { return false; }

    std::uint64_t dropped_truncated() const { return dropped_truncated_; }
    std::uint64_t send_failures() const { return send_failures_; }

  private:
    static void on_readable(evutil_socket_t fd, short events, void* context);
    static void on_end_of_turn(evutil_socket_t fd, short events, void* context);
    void read_batch();
    void flush_sends();

    // recvmmsg batch: enough to drain a burst per wake-up without starving other sockets.
    static constexpr std::size_t batch_size = 32;
    static constexpr std::size_t datagram_capacity = 2048;

    event_base* base_;
    const LoopClock& clock_;
    ClientDispatcher& dispatcher_;
    TransportAddress address_;
    int fd_ = -1;
    event* read_event_ = nullptr;
    // Made active by the first datagram queued in a turn: libevent runs it after the
    // callbacks already active in that turn, so the batch leaves before the loop sleeps.
    event* flush_event_ = nullptr;
    std::array<std::array<std::byte, datagram_capacity>, batch_size> buffers_{};
    std::array<sockaddr_storage, batch_size> sources_{};
    UdpSendBatch sends_;
    std::uint64_t dropped_truncated_ = 0;
    std::uint64_t send_failures_ = 0;
};

}  // namespace hearth::relay
