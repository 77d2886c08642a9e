#include "relay/turn/allocation.h"

namespace hearth::turn {

Allocation::Allocation(AllocationId id, FiveTuple five_tuple, Owner owner,
                       std::size_t max_permissions, std::size_t max_channels)
    : id_(id),
      five_tuple_(five_tuple),
      owner_(std::move(owner)),
      permissions_(max_permissions),
      channels_(max_channels) {}

LegTotals Allocation::to_peer_totals() const {
    return leg_totals(client_to_peer, client_to_peer_media.media());
}

LegTotals Allocation::to_client_totals() const {
    return leg_totals(peer_to_client, peer_to_client_media.media());
}

const RelayEndpoint* Allocation::relay_for(AddressFamily family) const {
    const auto& relay = family == AddressFamily::ipv4 ? relay_ipv4 : relay_ipv6;
    return relay ? &*relay : nullptr;
}

bool Allocation::install_permission(const IpAddress& peer, TimePoint now) {
    for (std::size_t i = 0; i < permission_count_; ++i) {
        if (permissions_[i].peer == peer) {
            // One that had lapsed (not yet pruned) starts again as a new permission.
            if (permissions_[i].expires <= now) {
                permissions_[i].used = false;
            }
            permissions_[i].expires = now + permission_lifetime;
            return true;
        }
    }
    expire(now);
    if (permission_count_ == permissions_.size()) {
        return false;
    }
    permissions_[permission_count_++] = Permission{peer, now + permission_lifetime, false};
    return true;
}

bool Allocation::has_permission(const IpAddress& peer, TimePoint now) const {
    for (std::size_t i = 0; i < permission_count_; ++i) {
        if (permissions_[i].peer == peer) {
            return now < permissions_[i].expires;
        }
    }
    return false;
}

Permission* Allocation::live_permission(const IpAddress& peer, TimePoint now) {
    for (std::size_t i = 0; i < permission_count_; ++i) {
        if (permissions_[i].peer == peer) {
            return now < permissions_[i].expires ? &permissions_[i] : nullptr;
        }
    }
    return nullptr;
}

Allocation::BindResult Allocation::bind_channel(std::uint16_t number, const TransportAddress& peer,
                                                TimePoint now) {
    expire(now);
    // A number or a peer is taken while its binding is live or quarantined (RFC 8656 §12.2).
    ChannelBinding* same_number = nullptr;
    for (std::size_t i = 0; i < channel_count_; ++i) {
        auto& binding = channels_[i];
        if (binding.number == number) {
            same_number = &binding;
        } else if (binding.peer == peer) {
            return BindResult::peer_in_use;
        }
    }
    if (same_number != nullptr) {
        if (!(same_number->peer == peer)) {
            return BindResult::number_in_use;
        }
        if (!install_permission(peer.ip, now)) {
            return BindResult::table_full;
        }
        // Bound again out of quarantine: a new binding as far as its first use goes.
        if (same_number->expires <= now) {
            same_number->used = false;
        }
        same_number->expires = now + channel_lifetime;
        return BindResult::refreshed;
    }
    if (channel_count_ == channels_.size()) {
        return BindResult::table_full;
    }
    if (!install_permission(peer.ip, now)) {
        return BindResult::table_full;
    }
    channels_[channel_count_++] = ChannelBinding{number, peer, now + channel_lifetime, false};
    return BindResult::bound;
}

ChannelBinding* Allocation::channel_by_number(std::uint16_t number, TimePoint now) {
    for (std::size_t i = 0; i < channel_count_; ++i) {
        if (channels_[i].number == number) {
            return now < channels_[i].expires ? &channels_[i] : nullptr;
        }
    }
    return nullptr;
}

ChannelBinding* Allocation::channel_by_peer(const TransportAddress& peer, TimePoint now) {
    for (std::size_t i = 0; i < channel_count_; ++i) {
        if (channels_[i].peer == peer) {
            return now < channels_[i].expires ? &channels_[i] : nullptr;
        }
    }
    return nullptr;
}

void Allocation::expire(TimePoint now) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < permission_count_; ++i) {
        if (now < permissions_[i].expires) {
            permissions_[kept++] = permissions_[i];
        }
    }
    permission_count_ = kept;
    kept = 0;
    for (std::size_t i = 0; i < channel_count_; ++i) {
        if (now < channels_[i].expires + channel_quarantine) {
            channels_[kept++] = channels_[i];
        }
    }
    channel_count_ = kept;
}

namespace {

// A packet through both budgets of a direction, whole or not at all: what the session
// refuses goes back to the allocation, so a dropped packet costs neither.
bool take_from(TokenBucket& own, SharedTokenBucket* session, std::size_t bytes, TimePoint now) {
    if (!own.take(bytes, now)) {
        return false;
    }
    if (session != nullptr && !session->take(bytes, now)) {
        own.give_back(bytes);
        return false;
    }
    return true;
}

// Both budgets of a direction: the allocation's first, then its session's; what the
// session does not allow goes back to the allocation.
std::size_t grant_from(TokenBucket& own, SharedTokenBucket* session, std::size_t wanted,
                       TimePoint now) {
    const std::size_t granted = own.grant(wanted, now);
    if (session == nullptr || granted == 0) {
        return granted;
    }
    const std::size_t session_granted = session->grant(granted, now);
    own.give_back(granted - session_granted);
    return session_granted;
}

}  // namespace

bool Allocation::within_client_to_peer_budget(std::size_t bytes, TimePoint now) {
    return take_from(client_to_peer_budget,
                     session_budget ? &session_budget->client_to_peer : nullptr, bytes, now);
}

bool Allocation::within_peer_to_client_budget(std::size_t bytes, TimePoint now) {
    return take_from(peer_to_client_budget,
                     session_budget ? &session_budget->peer_to_client : nullptr, bytes, now);
}

std::size_t Allocation::grant_client_to_peer(std::size_t wanted, TimePoint now) {
    return grant_from(client_to_peer_budget,
                      session_budget ? &session_budget->client_to_peer : nullptr, wanted, now);
}

std::size_t Allocation::grant_peer_to_client(std::size_t wanted, TimePoint now) {
    return grant_from(peer_to_client_budget,
                      session_budget ? &session_budget->peer_to_client : nullptr, wanted, now);
}

void Allocation::give_back_client_to_peer(std::size_t bytes) {
    client_to_peer_budget.give_back(bytes);
    if (session_budget) {
        session_budget->client_to_peer.give_back(bytes);
    }
}

void Allocation::give_back_peer_to_client(std::size_t bytes) {
    peer_to_client_budget.give_back(bytes);
    if (session_budget) {
        session_budget->peer_to_client.give_back(bytes);
    }
}

void Allocation::forget_fast_path_offers() {
    for (auto& channel : channels_) {
        channel.offered_until = {};
    }
}

}  // namespace hearth::turn
