#pragma once

// Datagrams for one UDP socket, queued during a turn of the worker's event loop and sent
// with sendmmsg at its end. A relay socket wakes for a packet or two, but one turn of the
// loop often has several ready, each wrapped for a client behind the same listener socket:
// one syscall sends them all. Fixed storage: queuing neither allocates nor blocks.

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"

namespace hearth::relay {

class UdpSendBatch {
  public:
    // Room for any single datagram: a Data indication around the largest peer datagram
    // (Worker::max_datagram) still fits.
    static constexpr std::size_t capacity_bytes = 64 * 1024;
    static constexpr std::size_t capacity_datagrams = 32;

    void set_socket(int fd) { fd_ = fd; }

    // Copies `datagram` in for `destination`, sending what is queued first when there is
    // no room. Returns how many datagrams the kernel refused while making room.
    std::size_t queue(const TransportAddress& destination, stun::Bytes datagram);
    // Sends everything queued, in order. Returns how many datagrams the kernel refused
    // (a full socket buffer, an unreachable destination); those are dropped.
    std::size_t flush();

    bool empty() const { return count_ == 0; }

  private:
    int fd_ = -1;
    std::size_t count_ = 0;
    std::size_t used_bytes_ = 0;
    std::array<mmsghdr, capacity_datagrams> headers_{};
    std::array<iovec, capacity_datagrams> vectors_{};
    std::array<sockaddr_storage, capacity_datagrams> destinations_{};
    std::array<std::byte, capacity_bytes> bytes_{};
};

}  // namespace hearth::relay
