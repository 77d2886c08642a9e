#pragma once

// Where session records (session_record.h) are kept: in memory for the embedded store, in
// Redis (hearth:session:{id}:record, README "Redis schema") for the Redis store. Workers
// hand updates in from their threads when an allocation is created or ends; the admin API
// reads records on the main thread. A record has ended when its session was revoked or
// its last allocation ended; ended records are listed for an hour.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "auth/session_record.h"

namespace hearth::auth {

// How long the list of ended sessions looks back (the admin page's "last hour").
inline constexpr std::chrono::milliseconds ended_sessions_window = std::chrono::hours(1);

struct EndedRecord {
    std::string session;
    FlatRecord fields;
};

class SessionRecordStore {
  public:
    virtual ~SessionRecordStore() = default;
    // Any thread; never waits.
    virtual void update(std::string session, std::vector<RecordUpdate> updates,
                        std::int64_t now_unix_ms) = 0;
    // Main thread; `done` runs there with the session's fields, empty when none is kept.
    virtual void read(std::string session, std::function<void(FlatRecord)> done) = 0;
    // Main thread: the sessions whose record ended within ended_sessions_window of
    // `now_unix_ms`, the latest first.
    virtual void ended(std::int64_t now_unix_ms,
                       std::function<void(std::vector<EndedRecord>)> done) = 0;
};

// When a record ended (its last allocation's end, or the revocation), or 0 while it lives.
std::int64_t ended_at_unix_ms(const FlatRecord& fields);

// The embedded store's records, in memory and bounded: ended records are forgotten after
// `keep_ended` or when more than `max_ended` have ended, the oldest first.
class EmbeddedSessionRecords final : public SessionRecordStore {
  public:
    explicit EmbeddedSessionRecords(std::chrono::milliseconds keep_ended = ended_sessions_window,
                                    std::size_t max_ended = 10000)
        : keep_ended_(keep_ended), max_ended_(max_ended) {}

    void update(std::string session, std::vector<RecordUpdate> updates,
                std::int64_t now_unix_ms) override;
    void read(std::string session, std::function<void(FlatRecord)> done) override;
    void ended(std::int64_t now_unix_ms,
               std::function<void(std::vector<EndedRecord>)> done) override;
    std::size_t size() const;

  private:
    struct Entry {
        FlatRecord fields;
        std::int64_t ended_at = 0;  // 0: live
    };
    void forget_old(std::int64_t now_unix_ms);

    mutable std::mutex mutex_;
    std::chrono::milliseconds keep_ended_;
    std::size_t max_ended_;
    std::map<std::string, Entry, std::less<>> records_;
    std::multimap<std::int64_t, std::string> ended_by_time_;
};

}  // namespace hearth::auth
