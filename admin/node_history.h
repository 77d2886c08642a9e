#pragma once

// The last 15 minutes of the node, for the admin page's plots (GET /v1/history): one
// sample every `interval`, in a fixed ring of `capacity`, so the plots are full the moment
// the page opens. Filled on the control loop from the workers' snapshots (never per packet,
// nothing on the packet path waits); pure here, the time is an argument, for unit tests.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "relay/net/snapshot.h"

namespace hearth::admin {

struct HistorySample {
    std::int64_t unix_ms = 0;
    std::uint64_t to_peer_bps = 0;  // relayed client to peer, bits per second
    std::uint64_t to_client_bps = 0;
    // RTP lost / expected over the interval, of the allocations alive at both ends of it;
    // none when no RTP was expected.
    std::optional<double> loss_fraction;
    std::uint64_t allocations = 0;
    // The live allocations' quality scores (snapshot.h); none without allocations.
    std::optional<double> mean_quality;
    std::optional<int> lowest_quality;
};

// Fixed size: the oldest sample goes when a new one comes.
class HistoryRing {
  public:
    static constexpr std::size_t capacity = 180;

    void push(const HistorySample& sample);
    // Oldest first.
    std::vector<HistorySample> samples() const;
    std::size_t size() const { return size_; }

  private:
    std::array<HistorySample, capacity> samples_{};
    std::size_t next_ = 0;  // where the next sample goes
    std::size_t size_ = 0;
};

// Turns the workers' snapshots into samples: rates and loss are differences from the
// previous reading, so traffic of allocations that ended within the interval is counted
// (their bytes move to the workers' retired totals).
class NodeHistory {
  public:
    static constexpr std::int64_t interval_ms = 5000;

    // Reads `workers` at `unix_ms`; the first reading only sets the baseline.
    void record(const std::vector<relay::WorkerSnapshot>& workers, std::int64_t unix_ms);
    const HistoryRing& ring() const { return ring_; }

  private:
    struct RtpCounts {
        std::uint64_t expected = 0;
        std::int64_t lost = 0;
    };

    HistoryRing ring_;
    bool has_baseline_ = false;
    std::int64_t last_unix_ms_ = 0;
    std::uint64_t last_to_peer_bytes_ = 0;
    std::uint64_t last_to_client_bytes_ = 0;
    std::unordered_map<turn::AllocationId, RtpCounts> last_rtp_;
};

}  // namespace hearth::admin
