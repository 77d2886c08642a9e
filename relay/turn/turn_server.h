#pragma once

// The TURN server state machine (RFC 8656) for one worker. It owns the worker's
// allocations, answers requests with the bytes to send back, and tells the I/O layer
// where relayed data goes. It takes the time as an argument and never touches a socket.

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/stun/message.h"
#include "relay/turn/advertised_address.h"
#include "relay/turn/allocation.h"
#include "relay/turn/allocation_events.h"
#include "relay/turn/authenticator.h"
#include "relay/turn/clock.h"
#include "relay/turn/fast_path.h"
#include "relay/turn/five_tuple.h"
#include "relay/turn/peer_policy.h"
#include "relay/turn/relay_sockets.h"
#include "relay/turn/server_counters.h"
#include "relay/turn/shared_limits.h"

namespace hearth::stun {
class MessageBuilder;
}

namespace hearth::turn {

struct AllocateRequest;

// Where a draining (or full) node sends new allocations: RFC 8489 §10, 300 Try Alternate
// with ALTERNATE-SERVER, and ALTERNATE-DOMAIN (§14.16) for TLS clients.
struct Redirect {
    TransportAddress alternate_server;
    std::string alternate_domain;  // "" = none
};

struct ServerSettings {
    std::string software = "hearth";
    Seconds lifetime_default{600};  // RFC 8656 §3.2
    Seconds lifetime_max{3600};
    std::uint32_t max_permissions_per_allocation = 32;
    std::uint32_t max_channels_per_allocation = 32;
    std::uint32_t unauthenticated_requests_per_second = 20;  // per source address
    std::uint32_t allocate_requests_per_second = 20;         // authenticated Allocates, per source
    // Refresh, CreatePermission, ChannelBind and Connect, per source; 0 = no limit.
    std::uint32_t upkeep_requests_per_second = 200;
    // Relayed bandwidth per direction (token buckets, bits a second; 0 = no limit).
    std::uint64_t allocation_bandwidth_bps = 10'000'000;
    // RFC 6062 TCP relays; off: a TCP REQUESTED-TRANSPORT gets 442.
    bool tcp_allocations = false;
    // Ports an RFC 6062 Connect may not reach, on any peer address (403).
    std::vector<std::uint16_t> tcp_denied_ports{25, 465, 587};
    // Past the per-user cap or the session's, the user's oldest allocation that relayed
    // nothing for this long gives its slot to the new one (a rejoin after a crash); 0 = never.
    Seconds rejoin_idle{15};
    // The public addresses behind a 1:1 NAT, put in XOR-RELAYED-ADDRESS in place of the
    // bound ones (relay.external_ipv4, relay.external_ipv6).
    AdvertisedAddresses advertised;
};

// The longest nonce an Authenticator issues (auth::NonceIssuer::size; tests/net checks it).
constexpr std::size_t max_nonce_size = 28;

// The most an answer to an unauthenticated request (Binding, the first Allocate, any error
// before the credentials are checked) may be, in bytes: three times the request, except
// where the challenge the RFC requires is larger. A 401 or 438 (RFC 8489 §9.2.4) carries
// ERROR-CODE (8 bytes: no reason phrase), REALM, NONCE and PASSWORD-ALGORITHMS (12), and
// FINGERPRINT only when the request had one: 76 bytes and the realm (padded to 4) to a bare
// 20-byte header. With the default realm "hearth" that is 84 bytes, exactly three times the
// smallest Allocate (28); only requests of a bare header, or with one empty attribute, get
// more than three times their size (84 bytes to 20 and 24; 92 to a header with FINGERPRINT).
// Unauthenticated answers carry no SOFTWARE. With the per-source rate
// (limits.unauthenticated_requests_per_second) this bounds what a spoofed source can reflect at a
// victim (SECURITY.md, "No amplification").
constexpr std::size_t max_unauthenticated_answer(std::size_t request_size, std::size_t realm_size,
                                                 bool request_has_fingerprint) {
    constexpr auto padded = [](std::size_t length) { return (length + 3) & ~std::size_t{3}; };
    const std::size_t challenge = 20 + 8 + (4 + padded(realm_size)) + (4 + padded(max_nonce_size)) +
                                  12 + (request_has_fingerprint ? 8 : 0);
    return std::max(3 * request_size, challenge);
}

// Where a datagram from the client goes: out of `relay` to `peer`.
struct PeerSend {
    const RelayEndpoint* relay = nullptr;
    TransportAddress peer;
    stun::Bytes payload;
};

// Room the I/O layer leaves in front of a peer's payload so a Data indication header
// (20 + XOR-PEER-ADDRESS 24 + DATA 4) or a ChannelData header can be written in place.
constexpr std::size_t peer_data_headroom = 48;
// Room after the payload for the padding of a DATA attribute or of stream ChannelData.
constexpr std::size_t peer_data_tailroom = 3;

class TurnServer {
  public:
    TurnServer(ServerSettings settings, PeerPolicy peer_policy, Authenticator& authenticator,
               RelaySockets& relay_sockets, AllocationEvents& events, SharedLimits& shared,
               std::uint64_t allocation_id_base);
    ~TurnServer();
    TurnServer(const TurnServer&) = delete;
    TurnServer& operator=(const TurnServer&) = delete;

    // RFC 6062 §5.2: open a TCP connection from the allocation's relayed address to
    // `peer`; the I/O layer answers the Connect when it succeeds or fails.
    struct TcpConnect {
        Allocation* allocation = nullptr;
        TransportAddress peer;
        stun::TransactionId transaction_id{};
        stun::IntegrityKey key;
    };
    // RFC 6062 §5.4: pair this client connection with the peer connection `connection_id`.
    struct TcpConnectionBind {
        std::uint32_t connection_id = 0;
        std::string username;
        stun::TransactionId transaction_id{};
        stun::IntegrityKey key;
    };
    struct StunOutcome {
        stun::Bytes response;             // to the client; empty: nothing to send
        std::optional<PeerSend> to_peer;  // a Send indication's payload
        std::optional<TcpConnect> tcp_connect;
        std::optional<TcpConnectionBind> tcp_connection_bind;
        // The session store answers later: park the request under this question and hand
        // it in again once the answer is here.
        std::optional<StoreQuestion> waiting_for;

        static StunOutcome reply(stun::Bytes response) {
            StunOutcome outcome;
            outcome.response = response;
            return outcome;
        }
    };
    // A STUN message from a client on `tuple`. `client_link` is stored with a new
    // allocation so the I/O layer can reach the client from the relay side.
    StunOutcome handle_stun(const stun::MessageView& message, const FiveTuple& tuple,
                            const Now& now, ClientLink* client_link);

    // A ChannelData message from a client (RFC 8656 §12.6). Nullopt: dropped and counted.
    std::optional<PeerSend> handle_channel_data(const FiveTuple& tuple, stun::Bytes datagram,
                                                TimePoint now);

    // A datagram from `peer` arrived on one of `allocation`'s relayed addresses; its
    // payload sits at buffer[peer_data_headroom, peer_data_headroom + payload_length).
    // Returns the message to send to the client, built in place (RFC 8656 §11.3, §12.7),
    // or an empty span when there is no permission. Streams need `pad_to_four`.
    stun::Bytes wrap_peer_datagram(Allocation& allocation, const TransportAddress& peer,
                                   std::span<std::byte> buffer, std::size_t payload_length,
                                   TimePoint now, bool pad_to_four);

    // An answer the I/O layer sends later (RFC 6062 Connect and ConnectionBind): success,
    // or `error`; CONNECTION-ID when given; always signed with the request's key, in the
    // integrity attribute it calls for (MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256).
    stun::Bytes late_answer(stun::Method method, const stun::TransactionId& transaction_id,
                            const stun::IntegrityKey& key, std::optional<TurnError> error,
                            std::optional<std::uint32_t> connection_id);

    // RFC 6062: data went between the client and `peer` over a TCP relay's connection; the
    // first under its permission is reported (first_use.cpp). The I/O layer calls it once
    // per connection.
    void note_stream_relayed(Allocation& allocation, const TransportAddress& peer,
                             Direction direction, TimePoint now);

    // Deletes allocations whose lifetime ran out, prunes their tables and samples their
    // quality track (quality_track.h).
    void expire(const Now& now);
    // The client's TCP or TLS connection closed (RFC 8656 §3.1: the allocation goes).
    void client_gone(const FiveTuple& tuple);
    // Deletes every allocation, e.g. at shutdown or on revocation of a session.
    void delete_all(DeleteReason reason);
    std::size_t delete_where_session(std::string_view session_id, std::string_view user_id,
                                     DeleteReason reason);
    // Rejoin: the allocation `id`, if this worker still holds it, whose slot of the per-user
    // cap, or of the session's, went to a new one (allocation_quota.h). True when it was
    // here and is deleted.
    bool delete_replaced(AllocationId id);
    // The allocation `id`, for `reason`, if this worker holds it; true when it was here.
    bool delete_by_id(AllocationId id, DeleteReason reason);
    // How an allocation replaced by an Allocate on this worker but held by another is
    // deleted there: the I/O layer posts delete_replaced to its owner's loop. Unset (a
    // lone server, in tests): only this server's own allocations are looked for.
    void set_replace_elsewhere(std::function<void(AllocationId)> replace_elsewhere) {
        replace_elsewhere_ = std::move(replace_elsewhere);
    }

    // Reload: new limits and peer policy for what comes next; allocations stay as they are,
    // but the fast path gives back every channel, to be offered again under the new policy.
    void apply(ServerSettings settings, PeerPolicy peer_policy);

    // The kernel fast path (relay/xdp), or null: channels are offered to it as their
    // packets pass in userspace (data_path.cpp), taken back when anything changes.
    void set_fast_path(FastPath* fast_path) { fast_path_ = fast_path; }
    // Adds what the fast path carried to the allocations' and the node's counters: before
    // every snapshot, and every second (expire).
    void collect_fast_path();

    // Draining: every new Allocate is redirected; without an alternate it gets 508.
    // `redirect` alone (not draining) is used when the node is at capacity.
    void set_draining(bool draining, std::optional<Redirect> redirect);
    bool draining() const { return draining_; }

    Allocation* find(const FiveTuple& tuple);
    std::size_t allocation_count() const { return allocations_.size(); }
    const ServerCounters& counters() const { return counters_; }
    template <typename Visitor>
    void for_each_allocation(Visitor&& visit) const {
        for (const auto& [tuple, allocation] : allocations_) {
            visit(*allocation);
        }
    }

  private:
    struct Request;  // the request being handled and where its answer goes
    using RequestHandler = StunOutcome (TurnServer::*)(Request&);
    // A request method and what it needs before its handler runs (the table is in
    // turn_server.cpp, the checks in handle_stun).
    struct RequestMethod {
        stun::Method method;
        RequestHandler handle;
        bool needs_authentication;
        bool needs_allocation;  // the 5-tuple's allocation, made with the same username
        bool counts_as_upkeep;  // against the per-source upkeep_requests_per_second
    };
    static const RequestMethod* request_method(stun::Method method);

    StunOutcome handle_binding(Request& request);
    StunOutcome handle_allocate(Request& request);
    StunOutcome admit(Request& request, const AllocateRequest& asked);
    struct SessionSlotAnswer {
        SessionRefusal refusal = SessionRefusal::none;
        StoreQuestion::Kind question = StoreQuestion::Kind::admit;
    };
    SessionSlotAnswer reserve_session_slot(Request& request, const std::string& key);
    StunOutcome create_allocation(Request& request, const AllocateRequest& asked, AllocationId id,
                                  std::shared_ptr<RelayActivity> activity);
    void release_replaced(AllocationId id);
    StunOutcome handle_refresh(Request& request);
    StunOutcome handle_create_permission(Request& request);
    StunOutcome handle_channel_bind(Request& request);
    StunOutcome handle_connect(Request& request);
    StunOutcome handle_connection_bind(Request& request);
    StunOutcome handle_send_indication(const stun::MessageView& message, const FiveTuple& tuple,
                                       TimePoint now);

    // authentication.cpp: the credential check and the bans. Nullopt: authenticated.
    std::optional<StunOutcome> authenticate(Request& request, const Allocation* existing);
    StunOutcome refuse_credentials(Request& request, AuthFailure failure, std::string_view username,
                                   bool throttled);
    StunOutcome error_response(Request& request, TurnError error, std::string_view why);
    StunOutcome unauthenticated_error(const stun::MessageView& message, const FiveTuple& tuple,
                                      TurnError error, std::string_view why, const Now& now);
    void add_challenge(stun::MessageBuilder& builder, const FiveTuple& tuple, const Now& now);
    StunOutcome allocate_success(Request& request, const Allocation& allocation,
                                 std::optional<TurnError> additional_family_error);
    StunOutcome try_alternate(Request& request, std::string_view why);
    void destroy(Allocation& allocation, DeleteReason reason);
    void observe_end(const Allocation& allocation);
    // The peer policy and the relayed family for a peer named in a request.
    std::optional<RequestRefusal> vet_peer(Allocation& allocation, const TransportAddress& peer);
    void count_peer_refusal(Allocation& allocation, const IpAddress& peer, PeerRefusal refusal);
    // The packet path's rare branch: marks the permission (and channel) used and reports
    // the first use of each. Out of line, so the ordinary packet carries none of it.
    // The packet path's other rare branch: a bound channel whose packet just passed every
    // check is offered to the fast path when it was not yet, or not until this moment.
    void offer_fast_path(Allocation& allocation, ChannelBinding& binding,
                         const Permission& permission, const RelayEndpoint& relay) {
        if (fast_path_ == nullptr) {
            return;
        }
        const TimePoint until = std::min({permission.expires, binding.expires, allocation.expires});
        if (binding.offered_until != until) [[unlikely]] {
            offer_fast_path_now(allocation, binding, relay, until);
        }
    }
    [[gnu::cold]] void offer_fast_path_now(Allocation& allocation, ChannelBinding& binding,
                                           const RelayEndpoint& relay, TimePoint until);
    void add_fast_path_counts(Allocation& allocation, const FastPathCounts& carried);
    void withdraw_fast_path(Allocation& allocation);
    [[gnu::cold]] void note_first_use(Allocation& allocation, Permission& permission,
                                      ChannelBinding* channel, const TransportAddress& peer,
                                      Direction direction);

    ServerSettings settings_;
    PeerPolicy peer_policy_;
    Authenticator& authenticator_;
    RelaySockets& relay_sockets_;
    AllocationEvents& events_;
    SharedLimits& shared_;
    std::uint64_t next_allocation_id_;
    std::unordered_map<FiveTuple, std::unique_ptr<Allocation>, FiveTupleHash> allocations_;
    ServerCounters counters_;
    std::uint64_t indication_id_state_;
    bool draining_ = false;
    std::optional<Redirect> redirect_;
    std::function<void(AllocationId)> replace_elsewhere_;
    FastPath* fast_path_ = nullptr;
    std::array<std::byte, stun::max_message_size> response_buffer_{};
};

}  // namespace hearth::turn
