// The TURN state machine driven by a script of client messages, peer datagrams and the
// passing of time (record format in turn_script.h). The authenticator trusts any
// MESSAGE-INTEGRITY so that mutated requests get past authentication and reach the
// allocation, permission, channel and data paths. Whatever the script, nothing may be
// relayed to a peer the policy refuses.

#include <array>
#include <cstdlib>

#include "../turn/turn_fakes.h"
#include "fuzz_input.h"
#include "turn_script.h"

using namespace hearth;
using namespace hearth::turn;

namespace {

const std::array clients{*TransportAddress::parse("198.51.100.7:40000"),
                         *TransportAddress::parse("198.51.100.8:40001"),
                         *TransportAddress::parse("[2001:db8::7]:40002"),
                         *TransportAddress::parse("198.51.100.7:40003")};
const TransportAddress server_address = *TransportAddress::parse("192.0.2.1:3478");
const std::array peers{*TransportAddress::parse("8.8.8.8:5000"),
                       *TransportAddress::parse("127.0.0.1:5000"),
                       *TransportAddress::parse("203.0.113.5:50000"),
                       *TransportAddress::parse("[2001:4860::8888]:5000")};

void require_allowed(const PeerPolicy& policy, const TransportAddress& peer) {
    if (policy.check(peer) != PeerRefusal::none) {
        std::abort();
    }
}

// Nothing is sent to, and no RFC 6062 connection opened to, a peer the policy refuses.
void require_allowed(const PeerPolicy& policy, const TurnServer::StunOutcome& outcome) {
    if (outcome.to_peer) {
        require_allowed(policy, outcome.to_peer->peer);
    }
    if (outcome.tcp_connect) {
        require_allowed(policy, outcome.tcp_connect->peer);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    testing::FakeAuthenticator authenticator;
    authenticator.trust_any_integrity = true;
    testing::FakeRelaySockets relay_sockets;
    relay_sockets.ipv6_available = true;
    testing::RecordingEvents events;
    // 203.0.113.5:50000, one of the peers, is another allocation of this relay.
    static LiveRelayedPorts live_ports;
    live_ports.add(AddressFamily::ipv4, RelayProtocol::udp, 50000);
    PeerPolicy policy;
    policy.add_relayed_range(*IpAddress::parse("203.0.113.5"), 50000, 50999, live_ports);
    policy.add_own_address(server_address.ip);
    policy.add_service_port(server_address.port);
    SharedLimits limits{AllocationQuota(64, 3), SessionBudgets(30'000'000),
                        SourceBanList(10, Seconds{60}, Seconds{300}, 30)};
    ServerSettings settings;
    settings.tcp_allocations = true;  // so that scripts reach RFC 6062 Connect
    TurnServer server(settings, policy, authenticator, relay_sockets, events, limits, 1);
    Now now{TimePoint{} + std::chrono::hours(1), 1'700'000'000};
    testing::FakeClientLink link;
    std::array<std::byte, peer_data_headroom + 4096 + peer_data_tailroom> peer_buffer{};

    fuzz::TurnScript script(fuzz::as_bytes(data, size));
    while (const auto step = script.next()) {
        const FiveTuple tuple{clients[step->client % clients.size()], server_address,
                              step->stream ? ClientTransport::tcp : ClientTransport::udp};
        switch (step->kind) {
            case fuzz::StepKind::client_stun: {
                const auto message = stun::MessageView::parse(step->payload);
                if (message) {
                    const auto outcome = server.handle_stun(*message, tuple, now, &link);
                    require_allowed(policy, outcome);
                }
                break;
            }
            case fuzz::StepKind::client_channel_data:
                if (const auto send =
                        server.handle_channel_data(tuple, step->payload, now.monotonic)) {
                    require_allowed(policy, send->peer);
                }
                break;
            case fuzz::StepKind::peer_datagram: {
                Allocation* allocation = server.find(tuple);
                if (allocation == nullptr) {
                    break;
                }
                const auto length = std::min(step->payload.size(), std::size_t{4096});
                std::copy_n(step->payload.begin(), length,
                            peer_buffer.begin() + peer_data_headroom);
                (void)server.wrap_peer_datagram(*allocation, peers[step->client % peers.size()],
                                                peer_buffer, length, now.monotonic, step->stream);
                break;
            }
            case fuzz::StepKind::time_passes:
                now.monotonic += Seconds(step->seconds);
                now.unix_seconds += step->seconds;
                server.expire(now);
                break;
            case fuzz::StepKind::client_gone:
                server.client_gone(tuple);
                break;
        }
    }
    server.delete_all(DeleteReason::shutdown);
    return 0;
}
