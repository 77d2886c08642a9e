#include "relay/net/audit_trail.h"

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

namespace hearth::relay {

std::unique_ptr<AuditTrail> AuditTrail::open(const AuditFileSettings& file, std::string node,
                                             std::string& error) {
    spdlog::sink_ptr sink;
    if (!file.path.empty()) {
        try {
            sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                file.path, static_cast<std::size_t>(file.max_file_size), file.max_files);
        } catch (const spdlog::spdlog_ex& failure) {
            error = failure.what();
            return nullptr;
        }
    }
    return std::make_unique<AuditTrail>(std::move(sink), file.queue_lines, std::move(node));
}

AuditTrail::AuditTrail(spdlog::sink_ptr sink, std::size_t queue_lines, std::string node)
    : node_(std::move(node)) {
    if (!sink) {
        return;
    }
    // A pool of its own, one thread: the audit file never waits behind, nor holds up,
    // any other logger. The logger is not registered, so no other part can reach it.
    writer_ = std::make_shared<spdlog::details::thread_pool>(queue_lines, 1);
    file_ = std::make_shared<spdlog::async_logger>("audit", std::move(sink), writer_,
                                                   spdlog::async_overflow_policy::overrun_oldest);
    file_->set_pattern("%v");  // the line is the record: its time is inside it
    file_->set_level(spdlog::level::info);
    // Written through at once by the writer thread, so a crash loses at most the queue.
    file_->flush_on(spdlog::level::info);
}

AuditTrail::~AuditTrail() {
    // Every line was flushed as written (flush_on); joining the writer lets it write what
    // still waits. No flush() here: posted to a full queue, it would push out a line.
    file_.reset();
    writer_.reset();
}

void AuditTrail::set_stream(AuditStreamAppend append, std::size_t max_in_flight) {
    stream_ = std::move(append);
    max_in_flight_ = max_in_flight;
}

void AuditTrail::record(std::string_view session, std::string_view line) {
    events_.fetch_add(1, std::memory_order_relaxed);
    if (file_) {
        file_->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
    }
    if (!stream_) {
        return;
    }
    // The bound on lines in flight keeps a slow Redis from holding memory without end:
    // what is past it is counted, not queued.
    if (stream_counts_->in_flight.fetch_add(1, std::memory_order_relaxed) >= max_in_flight_) {
        stream_counts_->in_flight.fetch_sub(1, std::memory_order_relaxed);
        stream_counts_->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    stream_(std::string(session), std::string(line), [counts = stream_counts_](bool written) {
        counts->in_flight.fetch_sub(1, std::memory_order_relaxed);
        if (!written) {
            counts->dropped.fetch_add(1, std::memory_order_relaxed);
        }
    });
}

AuditCounts AuditTrail::counts() const {
    AuditCounts counts;
    counts.events = events_.load(std::memory_order_relaxed);
    counts.file_dropped = writer_ ? writer_->overrun_counter() : 0;
    counts.stream_dropped = stream_counts_->dropped.load(std::memory_order_relaxed);
    return counts;
}

}  // namespace hearth::relay
