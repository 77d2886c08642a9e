#pragma once

// Allocation events as log lines: one per allocation event, never one per packet; and,
// when the node keeps one, as audit lines (audit_record.h) handed to its audit trail; and
// into the session records (record_updates.h).

#include "auth/session_records.h"
#include "relay/net/audit_record.h"
#include "relay/net/audit_trail.h"
#include "relay/net/log_rate_limit.h"
#include "relay/turn/allocation_events.h"

namespace hearth::relay {

class LogEvents final : public turn::AllocationEvents {
  public:
    // `audit`: the node's audit trail, shared by its workers; null for none. `records`:
    // where session records are kept; null for none (tests).
    LogEvents(unsigned worker_index, AuditTrail* audit, auth::SessionRecordStore* records = nullptr)
        : worker_index_(worker_index), audit_(audit), records_(records) {}
    void allocation_created(const turn::Allocation& allocation) override;
    void allocation_refreshed(const turn::Allocation& allocation, turn::Seconds lifetime) override;
    void allocation_deleted(const turn::Allocation& allocation, turn::DeleteReason reason) override;
    void request_refused(const turn::RefusedRequest& refused) override;
    void peer_refused(const turn::Allocation& allocation, const IpAddress& peer,
                      turn::PeerRefusal refusal) override;
    void username_banned(const IpAddress& source, std::string_view username,
                         turn::Seconds ban) override;
    void source_throttled(const IpAddress& source, turn::Seconds ban) override;
    void permission_first_used(const turn::Allocation& allocation, const TransportAddress& peer,
                               turn::Direction direction) override;
    void channel_first_used(const turn::Allocation& allocation, const turn::ChannelBinding& channel,
                            turn::Direction direction) override;

  private:
    bool line_allowed();
    AuditStamp audit_stamp() const;

    unsigned worker_index_;
    AuditTrail* audit_;
    auth::SessionRecordStore* records_;
    // Refusals are answered to the client each time but logged, with the bans a guesser's
    // fresh usernames start, at most this many a second.
    static constexpr std::uint32_t refusal_lines_per_second = 20;
    LogRateLimit refusal_lines_{refusal_lines_per_second};
};

}  // namespace hearth::relay
