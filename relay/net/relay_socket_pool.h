#pragma once

// The relayed transport addresses of one worker: a UDP socket per relayed address,
// read by the worker's event loop (RFC 8656 §2.2).

#include <event2/event.h>

#include <cstdint>
#include <optional>
#include <random>

#include "relay/net/tcp_relay.h"
#include "relay/turn/relay_sockets.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

class Worker;

struct RelayPortRange {
    std::uint16_t min = 49152;
    std::uint16_t max = 65535;
};

class RelaySocketPool final : public turn::RelaySockets {
  public:
    RelaySocketPool(Worker& worker, std::optional<IpAddress> ipv4, std::optional<IpAddress> ipv6,
                    RelayPortRange ports, TcpPortRegistry& tcp_ports, std::size_t max_queued_bytes);

    std::optional<turn::RelayEndpoint> open(AddressFamily family, bool even_port,
                                            turn::Allocation& owner) override;
    bool family_available(AddressFamily family) const override;
    void close(turn::RelayEndpoint& endpoint) override;

    // Sends a client's payload out of a relayed address to its peer.
    void send_to_peer(const turn::PeerSend& send);
    // RFC 6062: a Connect on a TCP allocation, and a client data connection to pair.
    void connect(const turn::TurnServer::TcpConnect& request);
    TcpRelay& tcp_relay() { return tcp_relay_; }

    std::uint64_t send_failures() const { return send_failures_; }
    std::uint64_t out_of_descriptors() const { return out_of_descriptors_; }

  private:
    static void on_readable(evutil_socket_t fd, short events, void* context);
    // A socket of `type` bound to a free port of the range (SOCK_STREAM ports claimed in
    // the TCP registry); -1 when none is free or descriptors ran out.
    int bind_socket(const IpAddress& address, int type, bool even_port, std::uint16_t& port_out);

    Worker& worker_;
    std::optional<IpAddress> ipv4_;
    std::optional<IpAddress> ipv6_;
    RelayPortRange ports_;
    std::minstd_rand port_picker_;
    std::uint64_t send_failures_ = 0;
    std::uint64_t out_of_descriptors_ = 0;  // socket() failed with EMFILE or ENFILE
    TcpPortRegistry& tcp_ports_;
    TcpRelay tcp_relay_;
};

}  // namespace hearth::relay
