// What a flood of Allocate requests with bad credentials takes from relaying on the same
// worker. The requests are the most expensive kind to refuse: a valid nonce and username,
// so hearth mints the password, derives the key and checks MESSAGE-INTEGRITY before it
// says 401. Each comes from its own source address, so no ban helps. The real
// CredentialAuthenticator and embedded session store are used; no sockets.

#include <benchmark/benchmark.h>

#include <vector>

#include "auth/credential.h"
#include "auth/embedded_session_store.h"
#include "bench_fakes.h"
#include "relay/net/credential_authenticator.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/turn_server.h"

namespace {

using namespace hearth;
using namespace hearth::turn;
using bench::NullEvents;
using bench::NullRelaySockets;

constexpr std::string_view secret = "bench-secret-0123456789abcdef";
constexpr std::int64_t now_unix = 1'700'000'000;

auth::SecretRing ring() {
    auth::SecretRing ring;
    ring.add({"bench", std::string(secret)});
    return ring;
}

struct Fixture {
    auth::EmbeddedSessionStore sessions;
    relay::CredentialAuthenticator authenticator{"hearth",
                                                 ring(),
                                                 std::array<std::byte, 32>{std::byte{7}},
                                                 std::chrono::seconds(600),
                                                 sessions,
                                                 [](std::function<void()> task) { task(); },
                                                 [](const turn::StoreQuestion&) {}};
    NullRelaySockets sockets;
    NullEvents events;
    SharedLimits limits{AllocationQuota(1'000'000, 1'000'000),
                        SessionBudgets(ServerSettings{}.allocation_bandwidth_bps * 3),
                        SourceBanList(0, Seconds{60}, Seconds{300}, 0)};  // no bans: worst case
    ServerSettings settings = [] {
        ServerSettings unlimited;
        unlimited.unauthenticated_requests_per_second = 0;  // the 401s all go out
        return unlimited;
    }();
    TurnServer server{settings, PeerPolicy{}, authenticator, sockets, events, limits, 1};
    Now now{TimePoint{} + std::chrono::hours(1), now_unix};
    TransportAddress peer = *TransportAddress::parse("8.8.8.8:5000");
    std::vector<FiveTuple> clients;
    std::vector<std::vector<std::byte>> flood;
    std::vector<FiveTuple> flood_sources;

    Fixture() {
        sessions.put(auth::Session{"bench", auth::SessionState::active, {"alice"}, 0, 0, 1000});
        const std::string username = auth::make_username(now_unix + 3600, "bench", "alice");
        const std::string password = auth::mint_password(secret, username);
        for (unsigned i = 0; i < 100; ++i) {
            FiveTuple tuple{TransportAddress{IpAddress::v4(0xC6336400u + i), 40000},
                            *TransportAddress::parse("192.0.2.1:3478"), ClientTransport::udp};
            allocate(tuple, username, password);
            clients.push_back(tuple);
        }
        // 4096 flooding sources, each with the nonce hearth would give it and a wrong password.
        for (unsigned i = 0; i < 4096; ++i) {
            FiveTuple tuple{TransportAddress{IpAddress::v4(0x0A000000u + i), 40000},
                            *TransportAddress::parse("192.0.2.1:3478"), ClientTransport::udp};
            flood.push_back(request(tuple, stun::Method::allocate, username, "wrong-password",
                                    [](stun::MessageBuilder& builder) {
                                        const std::array<std::byte, 4> udp{std::byte{17}};
                                        builder.add(stun::attribute::requested_transport, udp);
                                    }));
            flood_sources.push_back(tuple);
        }
    }

    template <typename Fill>
    std::vector<std::byte> request(const FiveTuple& tuple, stun::Method method,
                                   const std::string& username, const std::string& password,
                                   Fill fill) {
        std::array<std::byte, 512> buffer{};
        stun::TransactionId id{};
        id[0] = std::byte{static_cast<unsigned char>(method)};
        stun::MessageBuilder builder(buffer, method, stun::MessageClass::request, id);
        fill(builder);
        builder.add_string(stun::attribute::username, username);
        builder.add_string(stun::attribute::realm, "hearth");
        builder.add_string(
            stun::attribute::nonce,
            authenticator.issue_nonce(tuple.client.ip, now_unix, {.password_algorithms = true}));
        builder.add_message_integrity(stun::long_term_key_md5(username, "hearth", password));
        const auto bytes = builder.finish();
        return {bytes.begin(), bytes.end()};
    }

    void allocate(const FiveTuple& tuple, const std::string& username,
                  const std::string& password) {
        const auto send = [&](stun::Method method, auto fill) {
            const auto bytes = request(tuple, method, username, password, fill);
            server.handle_stun(*stun::MessageView::parse(bytes), tuple, now, nullptr);
        };
        send(stun::Method::allocate, [](stun::MessageBuilder& builder) {
            const std::array<std::byte, 4> udp{std::byte{17}};
            builder.add(stun::attribute::requested_transport, udp);
        });
        send(stun::Method::channel_bind, [this](stun::MessageBuilder& builder) {
            const std::array<std::byte, 4> channel{std::byte{0x40}, std::byte{0x01}, {}, {}};
            builder.add(stun::attribute::channel_number, channel);
            builder.add_xor_address(stun::attribute::xor_peer_address, peer);
        });
    }
};

// Relayed ChannelData packets per second while `state.range(0)` bad Allocates arrive for
// every 1000 packets relayed (0: no flood).
void BM_RelayingDuringBadCredentialFlood(benchmark::State& state) {
    Fixture fixture;
    if (fixture.server.allocation_count() != fixture.clients.size()) {
        state.SkipWithError("the fixture's allocations were refused");
        return;
    }
    const auto bad_per_thousand = static_cast<std::size_t>(state.range(0));
    std::vector<std::byte> datagram(4 + 160);
    datagram[0] = std::byte{0x40};
    datagram[1] = std::byte{0x01};
    datagram[3] = std::byte{160};
    std::size_t packet = 0;
    std::size_t flooded = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < 1000; ++i, ++packet) {
            fixture.now.monotonic += std::chrono::microseconds(100);
            auto send = fixture.server.handle_channel_data(
                fixture.clients[packet % fixture.clients.size()], datagram, fixture.now.monotonic);
            benchmark::DoNotOptimize(send);
        }
        for (std::size_t i = 0; i < bad_per_thousand; ++i, ++flooded) {
            const std::size_t which = flooded % fixture.flood.size();
            auto outcome =
                fixture.server.handle_stun(*stun::MessageView::parse(fixture.flood[which]),
                                           fixture.flood_sources[which], fixture.now, nullptr);
            benchmark::DoNotOptimize(outcome);
        }
    }
    if (fixture.server.counters().auth_failures != flooded) {
        state.SkipWithError("the flood was not refused as bad credentials");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_RelayingDuringBadCredentialFlood)->Arg(0)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
