#include "bench/load/bounce_traffic.h"

#include <signal.h>

#include <array>
#include <chrono>
#include <cstring>

#include "bench/load/load_bounce.h"
#include "bench/load/process_cpu.h"

namespace hearth::load {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Long enough for every client's first packets to have gone round (hearthd hands a channel
// to its fast path once one of its packets passed userspace), short against a run.
constexpr auto warm_up = 500ms;
// However the run ends, the program stops turning packets around this long after it.
constexpr auto deadline_margin = 2s;
// Draining: every packet started is back, or the count has stood still this long (the
// rest were lost), or at most drain_longest.
constexpr auto drain_poll = 10ms;
constexpr auto drain_quiet = 2s;
constexpr auto drain_longest = 10s;

// An IPv4 address as it lies in a packet.
std::uint32_t network_order(const IpAddress& ip) {
    std::uint32_t value = 0;
    std::memcpy(&value, ip.bytes.data(), sizeof value);
    return value;
}

std::uint64_t bounced(const BounceCounters& counters) {
    return counters.peer_bounced + counters.client_bounced;
}

// SIGINT, SIGTERM and SIGHUP held back while the program is attached, so that hearth-load
// ends through its destructor (which puts the interface's program back) and not at once.
class HeldSignals {
  public:
    HeldSignals() {
        sigemptyset(&set_);
        for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
            sigaddset(&set_, signal);
        }
        pthread_sigmask(SIG_BLOCK, &set_, &previous_);
    }
    ~HeldSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
    HeldSignals(const HeldSignals&) = delete;
    HeldSignals& operator=(const HeldSignals&) = delete;

    // Waits `duration` (a measuring window: the packets go round by themselves); false,
    // with `error`, if one of the signals came first.
    bool wait(Clock::duration duration, std::string& error) const {
        const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(duration);
        const timespec timeout{static_cast<time_t>(nanoseconds.count() / 1'000'000'000),
                               static_cast<long>(nanoseconds.count() % 1'000'000'000)};
        const int signal = sigtimedwait(&set_, nullptr, &timeout);
        if (signal > 0) {
            error = std::string("stopped by ") + strsignal(signal);
            return false;
        }
        return true;
    }

  private:
    sigset_t set_{};
    sigset_t previous_{};
};

// Each client's first `in_flight` packets, ChannelData on its channel (--raw too: the
// reflector sends back only ChannelData). Returns how many the kernel took.
std::uint64_t start_packets(const LoadOptions& options, std::vector<LoadClient>& clients) {
    LoadOptions framing = options;
    framing.raw = false;
    framing.mode = DataMode::channel;
    static std::array<std::array<std::byte, max_datagram>, 64> buffers;
    std::array<stun::Bytes, 64> outgoing;
    std::uint64_t started = 0;
    for (std::uint32_t i = 0; i < clients.size(); ++i) {
        for (std::uint32_t sent = 0; sent < options.in_flight;) {
            std::size_t count = 0;
            for (; count < buffers.size() && sent < options.in_flight; ++count, ++sent) {
                const std::size_t size = build_packet(framing, clients[i], i, sent, buffers[count]);
                outgoing[count] = stun::Bytes(buffers[count].data(), size);
            }
            started += clients[i].connection->send(std::span(outgoing.data(), count));
        }
    }
    return started;
}

// Stops the bouncing and counts what is still going round as it arrives: until every
// packet started is back, or none has come for drain_quiet (the rest were lost).
BounceCounters drain(LoadBounce& bounce, std::uint64_t started, const HeldSignals& signals,
                     std::string& error) {
    bounce.drain();
    BounceCounters last = bounce.counters();
    const auto start = Clock::now();
    auto last_change = start;
    while (last.drained < started) {
        if (!signals.wait(drain_poll, error)) {
            break;
        }
        const BounceCounters now = bounce.counters();
        const auto time = Clock::now();
        if (now.drained != last.drained) {
            last_change = time;
        }
        last = now;
        if (time - last_change > drain_quiet || time - start > drain_longest) {
            break;
        }
    }
    return last;
}

}  // namespace

TrafficResult run_bounced_traffic(const LoadOptions& options, std::vector<LoadClient>& clients,
                                  const EchoPeer* echo, std::string& error) {
    TrafficResult result;
    const auto local = clients.front().connection->local_address();
    if (!local || local->ip.family != AddressFamily::ipv4 ||
        options.server.ip.family != AddressFamily::ipv4) {
        error = "--bounce is IPv4 only";
        return result;
    }
    const BounceAddresses addresses{network_order(local->ip), network_order(options.server.ip),
                                    options.server.port,
                                    echo != nullptr ? echo->address().port : std::uint16_t{0}};
    const HeldSignals signals;
    const auto bounce = LoadBounce::attach(options.bounce_interface, addresses, error);
    if (!bounce) {
        return result;
    }
    const auto window = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.duration_seconds));
    const auto deadline =
        std::chrono::duration_cast<std::chrono::nanoseconds>(warm_up + window + deadline_margin);
    bounce->run_until(now_ns() + static_cast<std::uint64_t>(deadline.count()));
    const std::uint64_t started = start_packets(options, clients);

    if (!signals.wait(warm_up, error)) {
        return result;
    }
    const BounceCounters before = bounce->counters();
    const auto idle_before = machine_idle();
    const auto window_start = Clock::now();
    if (!signals.wait(window, error)) {
        return result;
    }
    const BounceCounters after = bounce->counters();
    const auto idle_after = machine_idle();
    const auto window_end = Clock::now();
    if (after.drained != 0) {
        error = "the bounce stopped before the window ended";
        return result;
    }
    const BounceCounters last = drain(*bounce, started, signals, error);
    if (!error.empty()) {
        return result;
    }

    result.seconds = std::chrono::duration<double>(window_end - window_start).count();
    // With --raw the reflector stands for the relay both ways: each turn is two legs.
    const std::uint64_t legs = options.raw ? 2 : 1;
    result.relayed_packets = legs * (bounced(after) - bounced(before));
    result.relayed_bytes = result.relayed_packets * options.payload_bytes;
    // Loss is what the packets going round lost: those started that did not come back.
    result.sent = started;
    result.client_received = last.drained;
    result.handed_to_relay = started + bounced(last);
    if (idle_before && idle_after) {
        result.machine_busy_seconds = result.seconds * idle_after->cpus -
                                      (idle_after->idle_seconds - idle_before->idle_seconds);
    }
    bounce->add_round_trips(result.latency);
    return result;
}

}  // namespace hearth::load
