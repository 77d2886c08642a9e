#pragma once

// The kernel's own count of datagrams it dropped on a UDP socket because the receive
// buffer was full (the "drops" column of /proc/net/udp and udp6), summed over the UDP
// sockets this process has or had open. Read when metrics are scraped, never per packet.
// A socket that closes takes its count out of /proc, so the last count read of each socket
// is kept: the total only grows, a counter (drops between a socket's last reading and its
// closing are not seen).

#include <cstdint>

namespace hearth::relay {

std::uint64_t udp_socket_drops();

// The receive buffer UDP listeners ask for. The kernel caps it at net.core.rmem_max; the
// listener logs what it got when that is less.
constexpr int listener_receive_buffer_bytes = 8 << 20;

}  // namespace hearth::relay
