#pragma once

// The session record (DESIGN.md flow 6): what a therapy session's allocations relayed and
// how well, summed for each participant and for the whole session, so the platform can
// answer afterwards who was relayed, for how long, how much and how good the call was.
//
// A record is a set of flat integer fields, each changed by one of three merge rules
// (add, highest, lowest). Every node folds each of its allocations into the session's
// record when the allocation is created and when it ends (relay/net/record_updates.h);
// the rules give the same record in any order, so nodes need no coordination: in memory
// (session_records.h) and in one Redis hash changed atomically by a script
// (redis_scripts.h) for the Redis store.
//
// Fields are "session.<name>" and "participant.<user>.<name>", plus "revoked_unix_ms".
// <name> is one of: live, allocations, started_unix_ms, ended_unix_ms,
// {to_peer,to_client}_{bytes,packets,peak_bps,rtp_expected,rtp_lost,jitter_us},
// lowest_quality (and lowest_quality_at_unix_ms), dropped_<reason>, deleted_<reason>.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::auth {

enum class Merge : std::uint8_t { add, highest, lowest };
const char* to_string(Merge merge);

// One field changed by one rule. With Merge::lowest, `at_unix_ms` is when the value was
// seen; it is kept beside the field ("<field>_at_unix_ms") while the value is the lowest.
struct RecordUpdate {
    std::string field;
    Merge merge = Merge::add;
    std::int64_t value = 0;
    std::int64_t at_unix_ms = 0;
    bool operator==(const RecordUpdate&) const = default;
};

using FlatRecord = std::map<std::string, std::int64_t, std::less<>>;
void merge_into(FlatRecord& record, const RecordUpdate& update);
void merge_into(FlatRecord& record, const std::vector<RecordUpdate>& updates);

inline constexpr std::string_view session_field_prefix = "session.";
inline constexpr std::string_view participant_field_prefix = "participant.";
inline constexpr std::string_view revoked_field = "revoked_unix_ms";
// The field counting a session's allocations alive: the session has ended at 0.
inline constexpr std::string_view session_live_field = "session.live";
// The backend ended the session (revoked, or its state set to ended in the store).
std::vector<RecordUpdate> record_revoked(std::int64_t unix_ms);

// One direction of a summary.
struct LegSummary {
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
    std::uint64_t peak_bps = 0;  // the highest over one quality-sample interval
    std::uint64_t mean_bps = 0;  // over the summary's duration
    std::uint64_t rtp_expected = 0;
    std::uint64_t rtp_lost = 0;
    double jitter_milliseconds = 0;  // the worst of its allocations'
};

// The session's summary, or one participant's.
struct RecordSummary {
    std::int64_t live = 0;  // allocations alive now
    std::uint64_t allocations = 0;
    std::int64_t started_unix_ms = 0;
    std::int64_t ended_unix_ms = 0;  // when the last allocation ended; 0 while one lives
    std::int64_t duration_ms = 0;    // from the first allocation to the last's end, or now
    LegSummary to_peer;
    LegSummary to_client;
    std::optional<int> lowest_quality;
    std::int64_t lowest_quality_at_unix_ms = 0;
    std::map<std::string, std::uint64_t> dropped;  // packets, by reason
    std::map<std::string, std::uint64_t> deleted;  // allocations, by reason
};

struct SessionRecord {
    bool ended = false;
    // "revoked" (the backend ended it) or "last_allocation_gone"; empty while live.
    std::string end_reason;
    std::int64_t revoked_unix_ms = 0;
    RecordSummary session;
    std::map<std::string, RecordSummary> participants;
};

// The record the fields make up, at `now_unix_ms` (the duration of what still lives).
SessionRecord read_record(const FlatRecord& fields, std::int64_t now_unix_ms);

}  // namespace hearth::auth
