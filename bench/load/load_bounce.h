#pragma once

// hearth-load's bounce (load_bounce.bpf.c), loaded and attached natively to the load's end
// of a veth pair in place of whatever XDP program was there, which it puts back when it
// goes (bounce_traffic.cpp holds SIGINT, SIGTERM and SIGHUP back meanwhile, so that it
// does). While it runs, the kernel turns the load's datagrams around; hearth-load only
// starts them, reads the counters and drains them.

#include <cstdint>
#include <memory>
#include <string>

#include "bench/load/latency_histogram.h"

struct load_bounce_bpf;

namespace hearth::load {

struct BounceAddresses {
    std::uint32_t load_ipv4 = 0;    // network byte order: the clients' and the echo peer's
    std::uint32_t server_ipv4 = 0;  // network byte order: the server's listening address
    std::uint16_t server_port = 0;  // host byte order, as every port here
    std::uint16_t echo_port = 0;
};

struct BounceCounters {
    std::uint64_t peer_bounced = 0;
    std::uint64_t client_bounced = 0;
    std::uint64_t drained = 0;
};

class LoadBounce {
  public:
    // Null with a one-line `error` if the kernel refuses the program or the interface.
    static std::unique_ptr<LoadBounce> attach(const std::string& interface,
                                              const BounceAddresses& addresses, std::string& error);
    ~LoadBounce();
    LoadBounce(const LoadBounce&) = delete;
    LoadBounce& operator=(const LoadBounce&) = delete;

    // Turns the load's datagrams around until drain() or `stop_at_ns` (CLOCK_MONOTONIC),
    // whichever comes first: a killed hearth-load leaves no packets going round.
    void run_until(std::uint64_t stop_at_ns);
    // From now on the load's datagrams are counted (drained) and dropped.
    void drain();
    BounceCounters counters() const;
    // The times the program measured between a packet's turns at the clients: a round
    // trip through the relay and the echo peer (with --client-to-client, one way), from
    // the start, the warm-up included.
    void add_round_trips(LatencyHistogram& histogram) const;

  private:
    LoadBounce() = default;

    load_bounce_bpf* skeleton_ = nullptr;
    int ifindex_ = 0;
    int previous_program_fd_ = -1;  // what was attached before, put back on destruction
    bool attached_ = false;
    int cpus_ = 0;
};

}  // namespace hearth::load
