// The state machine's share of relaying one packet each way: ChannelData from a client
// to its peer, and a peer's datagram wrapped for the client. No sockets: this is the cost
// hearth adds on top of the kernel's receive and send.

#include <benchmark/benchmark.h>

#include <span>
#include <vector>

#include "bench_fakes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/turn_server.h"

namespace {

using namespace hearth;
using namespace hearth::turn;
using bench::NullEvents;
using bench::NullRelaySockets;

class OpenAuthenticator final : public Authenticator {
  public:
    std::string_view realm() const override { return "hearth"; }
    std::string issue_nonce(const IpAddress&, std::int64_t, stun::SecurityFeatures) override {
        return "n";
    }
    std::expected<Credentials, AuthFailure> authenticate(const stun::MessageView&, const IpAddress&,
                                                         std::int64_t, std::string_view) override {
        return Credentials{Owner{"u", "s", "u", 0}, {}};
    }
    SessionRefusal admit_allocation(const Owner&, std::int64_t, PastSessionCap) override {
        return SessionRefusal::none;
    }
    void release_allocation(const Owner&) override {}
    SessionRefusal check_session(const Owner&, std::int64_t) override {
        return SessionRefusal::none;
    }
};

// A server with `allocations` allocations, each with one channel bound to a peer.
struct Fixture {
    OpenAuthenticator authenticator;
    NullRelaySockets sockets;
    NullEvents events;
    // The default bandwidth limits stay on: each packet refills and spends two buckets.
    SharedLimits limits{AllocationQuota(1'000'000, 1'000'000),
                        SessionBudgets(ServerSettings{}.allocation_bandwidth_bps * 3),
                        SourceBanList(10, Seconds{60}, Seconds{300}, 30)};
    TurnServer server{ServerSettings{}, PeerPolicy{}, authenticator, sockets, events, limits, 1};
    Now now{TimePoint{} + std::chrono::hours(1), 1'700'000'000};
    TransportAddress peer = *TransportAddress::parse("8.8.8.8:5000");
    std::vector<FiveTuple> tuples;

    explicit Fixture(int allocations) {
        for (int i = 0; i < allocations; ++i) {
            FiveTuple tuple{
                TransportAddress{IpAddress::v4(0xC6336400u + static_cast<unsigned>(i)), 40000},
                *TransportAddress::parse("192.0.2.1:3478"), ClientTransport::udp};
            send(tuple, stun::Method::allocate, [](stun::MessageBuilder& builder) {
                const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
                builder.add(stun::attribute::requested_transport, udp);
            });
            send(tuple, stun::Method::channel_bind, [this](stun::MessageBuilder& builder) {
                const std::array<std::byte, 4> channel{std::byte{0x40}, std::byte{0x01}, {}, {}};
                builder.add(stun::attribute::channel_number, channel);
                builder.add_xor_address(stun::attribute::xor_peer_address, peer);
            });
            tuples.push_back(tuple);
        }
    }

    template <typename Fill>
    void send(const FiveTuple& tuple, stun::Method method, Fill fill) {
        std::array<std::byte, 512> buffer{};
        stun::TransactionId id{};
        id[0] = std::byte{static_cast<unsigned char>(method)};
        stun::MessageBuilder builder(buffer, method, stun::MessageClass::request, id);
        fill(builder);
        builder.add_string(stun::attribute::username, "u");
        builder.add_string(stun::attribute::realm, "hearth");
        builder.add_string(stun::attribute::nonce, "n");
        builder.add_message_integrity(std::array<std::byte, 16>{});
        server.handle_stun(*stun::MessageView::parse(builder.finish()), tuple, now, nullptr);
    }
};

// The payload as media is: an RTP header (RFC 3550 §5.1, version 2, payload type 111)
// whose sequence number and timestamp advance with `packet`, which the relay's RTP
// statistics read on every packet; or opaque bytes, which they look at and pass.
void write_payload(std::span<std::byte> payload, bool rtp, std::uint32_t packet) {
    if (!rtp) {
        return;  // zeros: not RTP (RFC 7983 first byte 0)
    }
    payload[0] = std::byte{0x80};
    payload[1] = std::byte{111};
    payload[2] = static_cast<std::byte>(packet >> 8);
    payload[3] = static_cast<std::byte>(packet);
    const std::uint32_t timestamp = packet * 960;
    for (int i = 0; i < 4; ++i) {
        payload[4 + static_cast<std::size_t>(i)] =
            static_cast<std::byte>(timestamp >> (24 - 8 * i));
        payload[8 + static_cast<std::size_t>(i)] = std::byte{0x5E};  // the SSRC
    }
}

// Args: allocations, payload bytes, RTP (1) or opaque (0).
void BM_ChannelDataToPeer(benchmark::State& state) {
    Fixture fixture(static_cast<int>(state.range(0)));
    const bool rtp = state.range(2) != 0;
    std::vector<std::byte> datagram(4 + static_cast<std::size_t>(state.range(1)));
    datagram[0] = std::byte{0x40};
    datagram[1] = std::byte{0x01};
    datagram[2] = static_cast<std::byte>(state.range(1) >> 8);
    datagram[3] = static_cast<std::byte>(state.range(1));
    const std::span<std::byte> payload(datagram.data() + 4, datagram.size() - 4);
    std::size_t next = 0;
    std::uint32_t packet = 0;
    for (auto _ : state) {
        const auto& tuple = fixture.tuples[next];
        if (next == 0) {
            write_payload(payload, rtp, ++packet);  // each allocation sees one stream in order
        }
        next = next + 1 == fixture.tuples.size() ? 0 : next + 1;
        // A millisecond a packet keeps every allocation well under its bandwidth limit.
        fixture.now.monotonic += std::chrono::milliseconds(1);
        auto send = fixture.server.handle_channel_data(tuple, datagram, fixture.now.monotonic);
        benchmark::DoNotOptimize(send);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChannelDataToPeer)
    ->Args({10, 160, 0})
    ->Args({1000, 160, 0})
    ->Args({1000, 1200, 0})
    ->Args({10, 160, 1})
    ->Args({1000, 160, 1})
    ->Args({1000, 1200, 1});

// Args: payload bytes, RTP (1) or opaque (0).
void BM_PeerDatagramToClient(benchmark::State& state) {
    Fixture fixture(1);
    Allocation& allocation = *fixture.server.find(fixture.tuples.front());
    const auto payload = static_cast<std::size_t>(state.range(0));
    const bool rtp = state.range(1) != 0;
    std::vector<std::byte> buffer(peer_data_headroom + payload + peer_data_tailroom);
    std::uint32_t packet = 0;
    for (auto _ : state) {
        // Wrapping writes a header in front, never over the payload: rewritten each time.
        write_payload(std::span(buffer).subspan(peer_data_headroom, payload), rtp, ++packet);
        fixture.now.monotonic += std::chrono::milliseconds(1);
        auto message = fixture.server.wrap_peer_datagram(allocation, fixture.peer, buffer, payload,
                                                         fixture.now.monotonic, false);
        benchmark::DoNotOptimize(message);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PeerDatagramToClient)
    ->Args({160, 0})
    ->Args({1200, 0})
    ->Args({160, 1})
    ->Args({1200, 1});

}  // namespace
