#include "relay/net/log_events.h"

#include <spdlog/spdlog.h>

#include "relay/net/record_updates.h"

namespace hearth::relay {

namespace {

const char* method_name(stun::Method method) {
    switch (method) {
        case stun::Method::binding:
            return "Binding";
        case stun::Method::allocate:
            return "Allocate";
        case stun::Method::refresh:
            return "Refresh";
        case stun::Method::send:
            return "Send";
        case stun::Method::data:
            return "Data";
        case stun::Method::create_permission:
            return "CreatePermission";
        case stun::Method::channel_bind:
            return "ChannelBind";
        case stun::Method::connect:
            return "Connect";
        case stun::Method::connection_bind:
            return "ConnectionBind";
        case stun::Method::connection_attempt:
            return "ConnectionAttempt";
    }
    return "?";
}

std::string relayed(const turn::Allocation& allocation) {
    std::string text;
    for (const auto* relay :
         {allocation.relay_for(AddressFamily::ipv4), allocation.relay_for(AddressFamily::ipv6)}) {
        if (relay != nullptr) {
            text += text.empty() ? "" : ",";
            text += relay->address.to_string();
        }
    }
    return text;
}

// A username as the client sent it, fit for a log line: at most 64 characters, anything
// but printable ASCII as '?'.
std::string printable(std::string_view text) {
    constexpr std::size_t longest = 64;
    std::string shown(text.substr(0, longest));
    for (char& c : shown) {
        if (c < 0x20 || c > 0x7E) {
            c = '?';
        }
    }
    return text.size() > longest ? shown + "..." : shown;
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

AuditStamp LogEvents::audit_stamp() const {
    return AuditStamp{std::chrono::system_clock::now(), audit_->node(), turn::Clock::now()};
}

void LogEvents::allocation_created(const turn::Allocation& allocation) {
    if (records_ != nullptr) {
        const auto now_ms = unix_ms_now();
        records_->update(allocation.owner().session_id, record_created(allocation.owner(), now_ms),
                         now_ms);
    }
    if (audit_ != nullptr) {
        audit_->record(allocation.owner().session_id,
                       audit_allocation_created(audit_stamp(), allocation));
    }
    const auto& owner = allocation.owner();
    spdlog::info("allocation {} created: session={} user={} client={} ({}) relayed={} worker={}",
                 allocation.id(), owner.session_id, owner.user_id,
                 allocation.five_tuple().client.to_string(),
                 turn::to_string(allocation.five_tuple().transport), relayed(allocation),
                 worker_index_);
}

void LogEvents::allocation_refreshed(const turn::Allocation& allocation, turn::Seconds lifetime) {
    if (audit_ != nullptr) {
        audit_->record(allocation.owner().session_id,
                       audit_allocation_refreshed(audit_stamp(), allocation, lifetime));
    }
    spdlog::debug("allocation {} refreshed: lifetime={}s", allocation.id(), lifetime.count());
}

void LogEvents::allocation_deleted(const turn::Allocation& allocation, turn::DeleteReason reason) {
    if (records_ != nullptr) {
        const auto now_ms = unix_ms_now();
        records_->update(allocation.owner().session_id,
                         record_deleted(allocation, reason, turn::Clock::now(), now_ms), now_ms);
    }
    if (audit_ != nullptr) {
        audit_->record(allocation.owner().session_id,
                       audit_allocation_deleted(audit_stamp(), allocation, reason));
    }
    const auto& owner = allocation.owner();
    spdlog::info(
        "allocation {} deleted: reason={} session={} user={} client={} sent={}B/{}pkt "
        "received={}B/{}pkt dropped_no_permission={}",
        allocation.id(), turn::to_string(reason), owner.session_id, owner.user_id,
        allocation.five_tuple().client.to_string(), allocation.client_to_peer.bytes,
        allocation.client_to_peer.packets, allocation.peer_to_client.bytes,
        allocation.peer_to_client.packets,
        allocation.client_to_peer.dropped_no_permission +
            allocation.peer_to_client.dropped_no_permission);
}

bool LogEvents::line_allowed() {
    std::uint64_t left_out = 0;
    if (!refusal_lines_.allow(turn::Clock::now(), left_out)) {
        return false;
    }
    if (left_out > 0) {
        spdlog::info("worker {}: {} refusals and bans were not logged (at most {} a second)",
                     worker_index_, left_out, refusal_lines_per_second);
    }
    return true;
}

void LogEvents::request_refused(const turn::RefusedRequest& refused) {
    // The audit trail keeps the refused Allocates, every one (not rate limited like the
    // log: its queue bounds it, and what it drops is counted).
    if (audit_ != nullptr && refused.method == stun::Method::allocate) {
        audit_->record(refused.owner != nullptr ? refused.owner->session_id : std::string(),
                       audit_allocation_refused(audit_stamp(), refused));
    }
    if (!line_allowed()) {
        return;
    }
    spdlog::info("refused {} from {} ({}): {} {}: {}", method_name(refused.method),
                 refused.tuple.client.to_string(), turn::to_string(refused.tuple.transport),
                 turn::code_of(refused.error), turn::reason_phrase(refused.error), refused.why);
}

void LogEvents::peer_refused(const turn::Allocation& allocation, const IpAddress& peer,
                             turn::PeerRefusal refusal) {
    spdlog::warn("allocation {} peer {} refused by the peer policy: {}", allocation.id(),
                 peer.to_string(), turn::to_string(refusal));
}

void LogEvents::permission_first_used(const turn::Allocation& allocation,
                                      const TransportAddress& peer, turn::Direction direction) {
    if (audit_ != nullptr) {
        audit_->record(allocation.owner().session_id,
                       audit_permission_first_used(audit_stamp(), allocation, peer, direction));
    }
    spdlog::debug("allocation {} permission for {} first used ({})", allocation.id(),
                  peer.to_string(), turn::to_string(direction));
}

void LogEvents::channel_first_used(const turn::Allocation& allocation,
                                   const turn::ChannelBinding& channel, turn::Direction direction) {
    if (audit_ != nullptr) {
        audit_->record(allocation.owner().session_id,
                       audit_channel_first_used(audit_stamp(), allocation, channel, direction));
    }
    spdlog::debug("allocation {} channel {:#06x} to {} first used ({})", allocation.id(),
                  channel.number, channel.peer.to_string(), turn::to_string(direction));
}

void LogEvents::username_banned(const IpAddress& source, std::string_view username,
                                turn::Seconds ban) {
    if (!line_allowed()) {
        return;
    }
    spdlog::warn(
        "username '{}' from {} banned for {} s after repeated authentication failures (other "
        "usernames from there are still checked)",
        printable(username), source.to_string(), ban.count());
}

void LogEvents::source_throttled(const IpAddress& source, turn::Seconds ban) {
    if (!line_allowed()) {
        return;
    }
    spdlog::warn(
        "source {} throttled for {} s after authentication failures with many usernames: its "
        "credentials are checked at the unauthenticated rate, its failures unanswered",
        source.to_string(), ban.count());
}

}  // namespace hearth::relay
