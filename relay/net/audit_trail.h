#pragma once

// The audit trail's sinks (DESIGN.md flow 6, issue 16): every allocation event as one JSON
// line (audit_record.h builds it), to a rotated file of its own and, with the Redis store,
// to the streams hearth:audit and hearth:session:{id}:audit. Workers hand a finished line to
// record(), which never waits on a disk or a network:
//  - the file's lines go through a bounded queue to a writer thread of their own (spdlog's
//    async logger with its own thread pool); when the queue is full the oldest line waiting
//    is dropped and counted, so a stalled disk costs lines, never a worker's time;
//  - Redis's lines are handed to the store's event loop with a bound on the lines in flight;
//    past it, or when Redis does not take one, the line is counted as dropped.
// Nothing is lost without being counted (hearth_audit_events_dropped_total).

#include <spdlog/common.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class async_logger;
namespace details {
class thread_pool;
}
}  // namespace spdlog

namespace hearth::relay {

struct AuditFileSettings {
    std::string path;  // "" = no file
    std::uint64_t max_file_size = 100ull * 1024 * 1024;
    std::uint32_t max_files = 10;  // rotated files kept besides the one written
    // Lines waiting for the writer thread; past it the oldest waiting is dropped.
    std::size_t queue_lines = 8192;
};

// Hands one line to the Redis streams without blocking; `done` runs later (on any thread)
// with false when the line did not reach hearth:audit. `session` may be empty.
using AuditStreamAppend = std::function<void(const std::string& session, const std::string& line,
                                             std::function<void(bool)> done)>;

struct AuditCounts {
    std::uint64_t events = 0;          // lines recorded
    std::uint64_t file_dropped = 0;    // never reached the file
    std::uint64_t stream_dropped = 0;  // never reached hearth:audit
};

class AuditTrail {
  public:
    // `file` names a file to open (rotated at max_file_size); null with `error` when it
    // cannot be opened. An empty path gives a trail without a file (Redis only, or none).
    static std::unique_ptr<AuditTrail> open(const AuditFileSettings& file, std::string node,
                                            std::string& error);
    // Any sink (a test's, one that blocks); null for none.
    AuditTrail(spdlog::sink_ptr sink, std::size_t queue_lines, std::string node);
    ~AuditTrail();
    AuditTrail(const AuditTrail&) = delete;
    AuditTrail& operator=(const AuditTrail&) = delete;

    // Set once at start, before any worker records: the Redis side and its bound.
    void set_stream(AuditStreamAppend append, std::size_t max_in_flight);

    // Any thread; never blocks. `session` names the session stream the line also goes to.
    void record(std::string_view session, std::string_view line);

    const std::string& node() const { return node_; }
    AuditCounts counts() const;

  private:
    // Shared with the Redis callbacks, which may answer after the trail is gone.
    struct StreamCounts {
        std::atomic<std::size_t> in_flight{0};
        std::atomic<std::uint64_t> dropped{0};
    };

    std::string node_;
    std::shared_ptr<spdlog::details::thread_pool> writer_;
    std::shared_ptr<spdlog::async_logger> file_;
    std::atomic<std::uint64_t> events_{0};
    AuditStreamAppend stream_;
    std::size_t max_in_flight_ = 0;
    std::shared_ptr<StreamCounts> stream_counts_ = std::make_shared<StreamCounts>();
};

}  // namespace hearth::relay
