#pragma once

// A Prometheus-style histogram with fixed bucket bounds, kept by one worker without locks
// and summed over the workers by the control plane. Observed at an allocation's start and
// end, never per packet.

#include <array>
#include <cstddef>
#include <cstdint>

namespace hearth::turn {

template <std::size_t Bounds>
struct Histogram {
    // counts[i]: observations <= bounds[i] and > bounds[i - 1] (not cumulative); the last,
    // those above every bound (the +Inf bucket's share).
    std::array<std::uint64_t, Bounds + 1> counts{};
    double sum = 0;
    std::uint64_t count = 0;

    void observe(const std::array<double, Bounds>& bounds, double value) {
        std::size_t bucket = 0;
        while (bucket < Bounds && value > bounds[bucket]) {
            ++bucket;
        }
        ++counts[bucket];
        sum += value;
        ++count;
    }
    void add(const Histogram& other) {
        for (std::size_t i = 0; i < counts.size(); ++i) {
            counts[i] += other.counts[i];
        }
        sum += other.sum;
        count += other.count;
    }
};

}  // namespace hearth::turn
