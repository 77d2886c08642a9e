#pragma once

// The relayed transport addresses of one worker (RFC 8656 §2.2): a UDP socket per relayed
// address, read by the worker's loop, or an RFC 6062 TCP listener held by the TcpRelay.
// The way of a peer's datagram reads top to bottom in relay_socket_pool.cpp: received
// here, wrapped by the state machine, sent on the allocation's link to its client.

#include <event2/event.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "relay/net/loop_clock.h"
#include "relay/net/tcp_relay.h"
#include "relay/turn/live_relayed_ports.h"
#include "relay/turn/relay_sockets.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

struct RelayPortRange {
    std::uint16_t min = 49152;
    std::uint16_t max = 65535;
};

class RelaySocketPool final : public turn::RelaySockets {
  public:
    RelaySocketPool(event_base* base, const LoopClock& clock, std::optional<IpAddress> ipv4,
                    std::optional<IpAddress> ipv6, RelayPortRange ports, TcpRelay& tcp_relay,
                    TcpPortRegistry& tcp_ports, turn::LiveRelayedPorts& live_ports);
    RelaySocketPool(const RelaySocketPool&) = delete;
    RelaySocketPool& operator=(const RelaySocketPool&) = delete;
    // The state machine wraps what peers send; it is made after the pool it opens sockets
    // with, so it comes in here once it exists.
    void attach(turn::TurnServer& server) { server_ = &server; }

    std::optional<turn::RelayEndpoint> open(AddressFamily family, bool even_port,
                                            turn::Allocation& owner) override;
    bool family_available(AddressFamily family) const override;
    void close(turn::RelayEndpoint& endpoint) override;

    // Sends a client's payload out of a relayed address to its peer.
    void send_to_peer(const turn::PeerSend& send);
    // RFC 6062 §5.2: a Connect on a TCP allocation.
    void connect(const turn::TurnServer::TcpConnect& request);

    // The relayed ports the node's allocations hold, which this pool keeps up to date.
    const turn::LiveRelayedPorts& live_ports() const { return live_ports_; }
    std::uint64_t send_failures() const { return send_failures_; }
    std::uint64_t out_of_descriptors() const { return out_of_descriptors_; }

    // A peer datagram must still fit a Data indication's 16-bit length with its headers.
    static constexpr std::size_t max_datagram = 65000;
    // One recvmmsg's worth of peer datagrams, each with the headroom and tailroom
    // wrap_peer_datagram writes into.
    static constexpr std::size_t peer_batch = 32;
    static constexpr std::size_t peer_buffer_size =
        turn::peer_data_headroom + max_datagram + turn::peer_data_tailroom;

  private:
    static void on_readable(evutil_socket_t fd, short events, void* context);
    void read_peer_datagrams(turn::RelaySocket& relay);
    // A socket of `type` bound to a free port of the range (SOCK_STREAM ports claimed in
    // the TCP registry); -1 when none is free or descriptors ran out.
    int bind_socket(const IpAddress& address, int type, bool even_port, std::uint16_t& port_out);
    std::span<std::byte> peer_buffer(std::size_t index) {
        return {peer_buffers_.data() + index * peer_buffer_size, peer_buffer_size};
    }

    event_base* base_;
    const LoopClock& clock_;
    turn::TurnServer* server_ = nullptr;
    std::optional<IpAddress> ipv4_;
    std::optional<IpAddress> ipv6_;
    RelayPortRange ports_;
    std::minstd_rand port_picker_;
    std::uint64_t send_failures_ = 0;
    std::uint64_t out_of_descriptors_ = 0;  // socket() failed with EMFILE or ENFILE
    TcpRelay& tcp_relay_;
    TcpPortRegistry& tcp_ports_;
    turn::LiveRelayedPorts& live_ports_;   // the node's, for the peer policy
    std::vector<std::byte> peer_buffers_;  // peer_batch buffers, allocated once
};

}  // namespace hearth::relay
