#include "auth/session_record.h"

#include <algorithm>

namespace hearth::auth {

namespace {

constexpr std::string_view at_suffix = "_at_unix_ms";

}  // namespace

const char* to_string(Merge merge) {
    switch (merge) {
        case Merge::add:
            return "add";
        case Merge::highest:
            return "highest";
        case Merge::lowest:
            return "lowest";
    }
    return "?";
}

void merge_into(FlatRecord& record, const RecordUpdate& update) {
    const auto found = record.find(update.field);
    if (update.merge == Merge::add) {
        record[update.field] += update.value;
        return;
    }
    const bool better =
        found == record.end() || (update.merge == Merge::highest ? update.value > found->second
                                                                 : update.value < found->second);
    if (!better) {
        return;
    }
    record[update.field] = update.value;
    if (update.merge == Merge::lowest && update.at_unix_ms != 0) {
        record[update.field + std::string(at_suffix)] = update.at_unix_ms;
    }
}

void merge_into(FlatRecord& record, const std::vector<RecordUpdate>& updates) {
    for (const auto& update : updates) {
        merge_into(record, update);
    }
}

std::vector<RecordUpdate> record_revoked(std::int64_t unix_ms) {
    return {RecordUpdate{std::string(revoked_field), Merge::highest, unix_ms}};
}

namespace {

std::uint64_t count_of(std::int64_t value) {
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

// One field of a summary, by its name.
void read_field(RecordSummary& summary, std::string_view name, std::int64_t value) {
    struct LegField {
        std::string_view name;
        std::uint64_t LegSummary::*field;
    };
    static constexpr LegField leg_fields[] = {
        {"bytes", &LegSummary::bytes},       {"packets", &LegSummary::packets},
        {"peak_bps", &LegSummary::peak_bps}, {"rtp_expected", &LegSummary::rtp_expected},
        {"rtp_lost", &LegSummary::rtp_lost},
    };
    for (auto [leg_name, leg] : {std::pair{std::string_view("to_peer_"), &summary.to_peer},
                                 std::pair{std::string_view("to_client_"), &summary.to_client}}) {
        if (!name.starts_with(leg_name)) {
            continue;
        }
        const auto rest = name.substr(leg_name.size());
        for (const auto& field : leg_fields) {
            if (rest == field.name) {
                leg->*field.field = count_of(value);
            }
        }
        if (rest == "jitter_us") {
            leg->jitter_milliseconds = static_cast<double>(value) / 1000.0;
        }
        return;
    }
    if (name == "live") {
        summary.live = value;
    } else if (name == "allocations") {
        summary.allocations = count_of(value);
    } else if (name == "started_unix_ms") {
        summary.started_unix_ms = value;
    } else if (name == "ended_unix_ms") {
        summary.ended_unix_ms = value;
    } else if (name == "lowest_quality") {
        summary.lowest_quality = static_cast<int>(value);
    } else if (name == "lowest_quality_at_unix_ms") {
        summary.lowest_quality_at_unix_ms = value;
    } else if (name.starts_with("dropped_")) {
        summary.dropped[std::string(name.substr(8))] = count_of(value);
    } else if (name.starts_with("deleted_")) {
        summary.deleted[std::string(name.substr(8))] = count_of(value);
    }
}

// Duration and mean rates, once every field is in.
void finish(RecordSummary& summary, std::int64_t now_unix_ms) {
    if (summary.live > 0) {
        summary.ended_unix_ms = 0;
    }
    const std::int64_t end = summary.live > 0 ? now_unix_ms : summary.ended_unix_ms;
    summary.duration_ms = std::max<std::int64_t>(0, end - summary.started_unix_ms);
    for (auto* leg : {&summary.to_peer, &summary.to_client}) {
        leg->mean_bps =
            summary.duration_ms > 0
                ? leg->bytes * 8 * 1000 / static_cast<std::uint64_t>(summary.duration_ms)
                : 0;
    }
}

}  // namespace

SessionRecord read_record(const FlatRecord& fields, std::int64_t now_unix_ms) {
    SessionRecord record;
    for (const auto& [key, value] : fields) {
        const std::string_view field = key;
        if (field == revoked_field) {
            record.revoked_unix_ms = value;
        } else if (field.starts_with(session_field_prefix)) {
            read_field(record.session, field.substr(session_field_prefix.size()), value);
        } else if (field.starts_with(participant_field_prefix)) {
            // participant.<user>.<name>: a user id may hold dots, a name never does.
            const auto rest = field.substr(participant_field_prefix.size());
            const auto dot = rest.rfind('.');
            if (dot != std::string_view::npos && dot > 0) {
                read_field(record.participants[std::string(rest.substr(0, dot))],
                           rest.substr(dot + 1), value);
            }
        }
    }
    finish(record.session, now_unix_ms);
    for (auto& [user, summary] : record.participants) {
        finish(summary, now_unix_ms);
    }
    record.ended = record.revoked_unix_ms != 0 || record.session.live <= 0;
    if (record.ended) {
        record.end_reason = record.revoked_unix_ms != 0 ? "revoked" : "last_allocation_gone";
    }
    return record;
}

}  // namespace hearth::auth
