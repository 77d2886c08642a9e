#include "auth/session_records.h"

#include <algorithm>

namespace hearth::auth {

std::int64_t ended_at_unix_ms(const FlatRecord& fields) {
    const auto field = [&](std::string_view name) {
        const auto found = fields.find(name);
        return found == fields.end() ? std::int64_t{0} : found->second;
    };
    const std::int64_t revoked = field(revoked_field);
    const bool live = field(session_live_field) > 0;
    if (revoked == 0 && live) {
        return 0;
    }
    return std::max(revoked, field("session.ended_unix_ms"));
}

void EmbeddedSessionRecords::update(std::string session, std::vector<RecordUpdate> updates,
                                    std::int64_t now_unix_ms) {
    std::lock_guard lock(mutex_);
    auto& entry = records_[session];
    merge_into(entry.fields, updates);
    const std::int64_t ended_at = ended_at_unix_ms(entry.fields);
    if (ended_at != entry.ended_at) {
        if (entry.ended_at != 0) {
            const auto [first, last] = ended_by_time_.equal_range(entry.ended_at);
            for (auto it = first; it != last; ++it) {
                if (it->second == session) {
                    ended_by_time_.erase(it);
                    break;
                }
            }
        }
        if (ended_at != 0) {
            ended_by_time_.emplace(ended_at, session);
        }
        entry.ended_at = ended_at;
    }
    forget_old(now_unix_ms);
}

// Only ended records go; a live one is bounded by its allocations.
void EmbeddedSessionRecords::forget_old(std::int64_t now_unix_ms) {
    const std::int64_t oldest_kept = now_unix_ms - keep_ended_.count();
    while (!ended_by_time_.empty() &&
           (ended_by_time_.begin()->first < oldest_kept || ended_by_time_.size() > max_ended_)) {
        records_.erase(ended_by_time_.begin()->second);
        ended_by_time_.erase(ended_by_time_.begin());
    }
}

void EmbeddedSessionRecords::read(std::string session, std::function<void(FlatRecord)> done) {
    FlatRecord fields;
    {
        std::lock_guard lock(mutex_);
        const auto found = records_.find(session);
        if (found != records_.end()) {
            fields = found->second.fields;
        }
    }
    done(std::move(fields));
}

void EmbeddedSessionRecords::ended(std::int64_t now_unix_ms,
                                   std::function<void(std::vector<EndedRecord>)> done) {
    std::vector<EndedRecord> ended;
    {
        std::lock_guard lock(mutex_);
        const std::int64_t since = now_unix_ms - ended_sessions_window.count();
        for (auto it = ended_by_time_.rbegin(); it != ended_by_time_.rend() && it->first >= since;
             ++it) {
            ended.push_back({it->second, records_.at(it->second).fields});
        }
    }
    done(std::move(ended));
}

std::size_t EmbeddedSessionRecords::size() const {
    std::lock_guard lock(mutex_);
    return records_.size();
}

}  // namespace hearth::auth
