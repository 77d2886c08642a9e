#pragma once

// One allocation (RFC 8656 §2.2): its relayed addresses, lifetime, permissions and
// channel bindings. Owned by one worker; its permission and channel tables are fixed
// in size when it is created so the packet path never allocates.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/client_link.h"
#include "relay/turn/clock.h"
#include "relay/turn/direction_counters.h"
#include "relay/turn/five_tuple.h"
#include "relay/turn/media_stats.h"
#include "relay/turn/quality_track.h"
#include "relay/turn/relay_activity.h"
#include "relay/turn/relay_protocol.h"
#include "relay/turn/session_budgets.h"
#include "relay/turn/token_bucket.h"

namespace hearth::turn {

// RFC 8656 §9: a permission lasts 300 s and is not configurable.
constexpr Seconds permission_lifetime{300};
// RFC 8656 §12: a channel binding lasts 600 s...
constexpr Seconds channel_lifetime{600};
// ...and its number and peer stay reserved for 5 minutes after it expires (§12.2).
constexpr Seconds channel_quarantine{300};

// The I/O layer's socket behind a relayed transport address: declared here, defined (and
// only ever looked into) by the socket layer.
struct RelaySocket;

// A relayed transport address and the I/O layer's socket for it.
struct RelayEndpoint {
    TransportAddress address;
    RelaySocket* socket = nullptr;
};

// `used`: a packet has been relayed under it, to or from its peer; the audit trail records
// the first (relay/turn/first_use.cpp). The packet path reads the flag from the entry it
// already checked, so the ordinary packet pays one branch.
struct Permission {
    IpAddress peer;
    TimePoint expires;
    bool used = false;
};

struct ChannelBinding {
    std::uint16_t number = 0;
    TransportAddress peer;
    TimePoint expires;  // live until then, quarantined for channel_quarantine after
    bool used = false;
    // The peer was another allocation of this relay when bound: its port is checked on
    // every packet that comes here as a Send's is (it is open only while that allocation
    // lives). The fast path hands such datagrams to userspace but on lo (README).
    bool peer_is_other_allocation = false;
    // Until when the fast path was last offered this binding (fast_path.h); {} = never.
    TimePoint offered_until{};
};

// Who the allocation belongs to, as proven by the long-term credential.
struct Owner {
    std::string username;
    std::string session_id;
    std::string user_id;
    std::int64_t credential_expiry_unix = 0;
};

class Allocation {
  public:
    Allocation(AllocationId id, FiveTuple five_tuple, Owner owner, std::size_t max_permissions,
               std::size_t max_channels);

    AllocationId id() const { return id_; }
    const FiveTuple& five_tuple() const { return five_tuple_; }
    const Owner& owner() const { return owner_; }

    std::optional<RelayEndpoint> relay_ipv4;
    std::optional<RelayEndpoint> relay_ipv6;
    const RelayEndpoint* relay_for(AddressFamily family) const;

    RelayProtocol relay_protocol = RelayProtocol::udp;
    TimePoint expires;
    TimePoint created;
    stun::TransactionId allocate_transaction{};  // RFC 8656 §7.2: retransmits answered alike
    ClientLink* client_link = nullptr;           // the I/O layer's way back to the client
    bool peer_refusal_logged = false;            // the peer policy logs once per allocation

    DirectionCounters client_to_peer;
    DirectionCounters peer_to_client;
    LegStats client_to_peer_media;
    LegStats peer_to_client_media;
    QualityTrack quality;  // for the session record: sampled by the housekeeping
    // This direction's totals as the quality track compares them.
    LegTotals to_peer_totals() const;
    LegTotals to_client_totals() const;
    // When it last relayed, in either direction; shared with the per-user cap, which reads
    // it from other workers (allocation_quota.h). Never null.
    std::shared_ptr<RelayActivity> activity = std::make_shared<RelayActivity>(TimePoint{});

    // Relayed-bandwidth budgets, per direction: the allocation's own and its session's.
    TokenBucket client_to_peer_budget;
    TokenBucket peer_to_client_budget;
    std::shared_ptr<SessionBudget> session_budget;  // null: sessions unlimited
    // Spends `bytes` of both budgets of a direction; false: drop the packet.
    bool within_client_to_peer_budget(std::size_t bytes, TimePoint now);
    bool within_peer_to_client_budget(std::size_t bytes, TimePoint now);
    // For RFC 6062 streams: how many of `wanted` bytes both budgets allow now (spent).
    std::size_t grant_client_to_peer(std::size_t wanted, TimePoint now);
    std::size_t grant_peer_to_client(std::size_t wanted, TimePoint now);
    // Returns bytes granted but not spent after all, to both budgets of a direction.
    void give_back_client_to_peer(std::size_t bytes);
    void give_back_peer_to_client(std::size_t bytes);

    // Permissions: installs or refreshes; false when the table is full.
    bool install_permission(const IpAddress& peer, TimePoint now);
    bool has_permission(const IpAddress& peer, TimePoint now) const;
    // The live permission for `peer`, or null.
    Permission* live_permission(const IpAddress& peer, TimePoint now);

    enum class BindResult { bound, refreshed, number_in_use, peer_in_use, table_full };
    // RFC 8656 §12.2's rebinding rules; a successful bind also installs the permission.
    BindResult bind_channel(std::uint16_t number, const TransportAddress& peer, TimePoint now);
    // The live binding of a number or of a peer, or null.
    ChannelBinding* channel_by_number(std::uint16_t number, TimePoint now);
    ChannelBinding* channel_by_peer(const TransportAddress& peer, TimePoint now);

    // Drops permissions and quarantined channels that have run out.
    void expire(TimePoint now);
    // The fast path took every binding back: each is offered again on its next packet.
    void forget_fast_path_offers();

    std::size_t permission_count() const { return permission_count_; }
    std::size_t channel_count() const { return channel_count_; }

  private:
    AllocationId id_;
    FiveTuple five_tuple_;
    Owner owner_;
    std::vector<Permission> permissions_;  // capacity fixed at construction
    std::size_t permission_count_ = 0;
    std::vector<ChannelBinding> channels_;
    std::size_t channel_count_ = 0;
};

}  // namespace hearth::turn
