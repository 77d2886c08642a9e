#pragma once

// hearth-load's traffic: every client sends paced packets through its allocation, to the
// echo peer (which sends each back through the relay) or to another client. Each packet
// carries who sent it, a sequence number and the send time, so the receiver knows the
// latency and the totals tell the loss.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "bench/load/latency_histogram.h"
#include "bench/load/load_options.h"
#include "bench/load/turn_setup.h"

namespace hearth::load {

constexpr std::size_t max_datagram = 2048;

// CLOCK_MONOTONIC in nanoseconds: the time packets carry (and XDP's bpf_ktime_get_ns).
std::uint64_t now_ns();

// Writes one packet of `client`'s into `out`, stamped now: ChannelData or a Send
// indication around the payload, or with --raw the payload alone. Returns its size.
std::size_t build_packet(const LoadOptions& options, const LoadClient& client, std::uint32_t sender,
                         std::uint32_t sequence, std::span<std::byte, max_datagram> out);

// A UDP socket standing in for the far end of every call: it sends each datagram back
// where it came from (the client's relayed address), in batches (recvmmsg, sendmmsg).
class EchoPeer {
  public:
    // Binds next to `local` (the address the clients reach the server from).
    EchoPeer(const IpAddress& local, std::uint16_t port, std::string& error);
    ~EchoPeer();
    EchoPeer(const EchoPeer&) = delete;
    EchoPeer& operator=(const EchoPeer&) = delete;

    int fd() const { return fd_; }
    const TransportAddress& address() const { return address_; }
    // Echoes what is waiting; returns how many datagrams it took.
    std::uint64_t echo_waiting();

  private:
    int fd_ = -1;
    TransportAddress address_;
};

struct TrafficResult {
    double seconds = 0;                 // sending time
    std::uint64_t sent = 0;             // packets the clients sent
    std::uint64_t peer_received = 0;    // echo mode: packets the echo peer got
    std::uint64_t client_received = 0;  // packets that came back to a client
    std::uint64_t relayed_packets = 0;  // legs the relay completed
    std::uint64_t relayed_bytes = 0;    // payload bytes of those legs
    LatencyHistogram latency;           // echo: round trip; client-to-client: one way
    // --bounce: whole-machine busy CPU-seconds over `seconds`, and every datagram the
    // load handed to the relay (the packets started and each turn). There `sent` is the
    // packets started and `client_received` those that were still going round at the end.
    std::optional<double> machine_busy_seconds;
    std::optional<std::uint64_t> handed_to_relay;
};

// Sends for options.duration_seconds, then waits up to a second for what is in flight.
TrafficResult run_traffic(const LoadOptions& options, std::vector<LoadClient>& clients,
                          EchoPeer* echo);

}  // namespace hearth::load
