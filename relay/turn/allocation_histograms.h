#pragma once

// What the allocations of one worker looked like when they started and ended, as
// histograms (histogram.h): how long they lived, how long their Allocate took (from the
// request's arrival to the success answer, waiting for the session store included), and,
// for those that carried RTP, their loss and jitter at the end. Exported by /metrics.

#include <array>

#include "relay/turn/histogram.h"

namespace hearth::turn {

namespace allocation_buckets {
// Seconds: a test call lasts seconds, a therapy session about an hour.
inline constexpr std::array<double, 10> duration{1,    10,   60,   300,  900,
                                                 1800, 3600, 5400, 7200, 14400};
// Seconds: at the loop clock's grain; a wait for the session store shows as tens of ms.
inline constexpr std::array<double, 11> setup{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,   0.25,   0.5,   1,    2.5};
// Fraction of the RTP packets expected that never came, both directions together.
inline constexpr std::array<double, 9> loss{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5};
// Seconds of RFC 3550 interarrival jitter, the worse direction's.
inline constexpr std::array<double, 9> jitter{0.001, 0.0025, 0.005, 0.01, 0.02,
                                              0.03,  0.05,   0.1,   0.2};
}  // namespace allocation_buckets

struct AllocationHistograms {
    Histogram<allocation_buckets::duration.size()> duration_seconds;
    Histogram<allocation_buckets::setup.size()> setup_seconds;
    Histogram<allocation_buckets::loss.size()> loss_ratio;
    Histogram<allocation_buckets::jitter.size()> jitter_seconds;

    void add(const AllocationHistograms& other) {
        duration_seconds.add(other.duration_seconds);
        setup_seconds.add(other.setup_seconds);
        loss_ratio.add(other.loss_ratio);
        jitter_seconds.add(other.jitter_seconds);
    }
};

}  // namespace hearth::turn
