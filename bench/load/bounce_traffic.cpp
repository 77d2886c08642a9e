#include "bench/load/bounce_traffic.h"

#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "bench/load/load_bounce.h"
#include "bench/load/process_cpu.h"

namespace hearth::load {

namespace {

using namespace std::chrono_literals;

// An IPv4 address as it lies in a packet.
std::uint32_t network_order(const IpAddress& ip) {
    std::uint32_t value = 0;
    std::memcpy(&value, ip.bytes.data(), sizeof value);
    return value;
}

// Long enough for every client's first packets to have gone round (hearthd hands a channel
// to its fast path once one of its packets passed userspace), short against a run.
constexpr auto warm_up = 500ms;
// However the run ends, the program stops turning packets around this long after it.
constexpr auto deadline_margin = 2s;
// Draining: every packet started is back, or the count has stood still this long (the
// rest were lost), or at most drain_longest.
constexpr auto drain_poll = 10ms;
constexpr auto drain_quiet = 500ms;
constexpr auto drain_longest = 5s;

std::uint64_t bounced(const BounceCounters& counters) {
    return counters.peer_bounced + counters.client_bounced;
}

// Each client's first `in_flight` packets, ChannelData on its channel (--raw too: the
// reflector sends back only ChannelData). Returns how many went out.
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
            clients[i].connection->send(std::span(outgoing.data(), count));
            started += count;
        }
    }
    return started;
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
    BounceAddresses addresses{network_order(local->ip), network_order(options.server.ip),
                              options.server.port,
                              echo != nullptr ? echo->address().port : std::uint16_t{0}};
    const auto bounce = LoadBounce::attach(options.bounce_interface, addresses, error);
    if (!bounce) {
        return result;
    }
    const auto window = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(options.duration_seconds));
    bounce->run_until(now_ns() +
                      static_cast<std::uint64_t>((warm_up + window + deadline_margin).count()));
    const std::uint64_t started = start_packets(options, clients);

    // Measuring windows, not waits for an event: the packets go round by themselves.
    std::this_thread::sleep_for(warm_up);
    const BounceCounters before = bounce->counters();
    const auto idle_before = machine_idle();
    const auto window_start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(window);
    const BounceCounters after = bounce->counters();
    const auto idle_after = machine_idle();
    const auto window_end = std::chrono::steady_clock::now();
    bounce->drain();

    // What is still going round arrives and is counted as drained; the rest was lost.
    BounceCounters last = bounce->counters();
    const auto drain_start = std::chrono::steady_clock::now();
    auto last_change = drain_start;
    while (last.drained < started) {
        std::this_thread::sleep_for(drain_poll);
        const BounceCounters now = bounce->counters();
        const auto time = std::chrono::steady_clock::now();
        if (now.drained != last.drained) {
            last_change = time;
        }
        last = now;
        if (time - last_change > drain_quiet || time - drain_start > drain_longest) {
            break;
        }
    }
    result.seconds = std::chrono::duration<double>(window_end - window_start).count();
    // With --raw the reflector stands for the relay both ways: each turn is two legs.
    const std::uint64_t legs = options.raw ? 2 : 1;
    result.relayed_packets = legs * (bounced(after) - bounced(before));
    result.relayed_bytes = result.relayed_packets * options.payload_bytes;
    // Every datagram handed to the relay, and how many of them came back.
    result.sent = started + bounced(last);
    const std::uint64_t lost = started > last.drained ? started - last.drained : 0;
    result.client_received = result.sent - lost;
    if (idle_before && idle_after) {
        result.machine_busy_seconds = result.seconds * idle_after->cpus -
                                      (idle_after->idle_seconds - idle_before->idle_seconds);
    }
    bounce->add_round_trips(result.latency);
    return result;
}

}  // namespace hearth::load
