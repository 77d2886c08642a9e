#pragma once

// File descriptors bound how many allocations a node can hold: each needs a relay
// socket, and a TCP or TLS client also its connection. hearthd raises its soft
// RLIMIT_NOFILE to the hard limit at start and caps allocations at what the rest allows,
// so the cap answers 508 before socket() fails.

#include <cstdint>

namespace hearth::relay {

// Descriptors counted per allocation: the relay socket and the client's connection.
constexpr std::uint64_t descriptors_per_allocation = 2;

// Raises the soft limit to the hard one; returns the limit in force afterwards.
std::uint64_t raise_descriptor_limit();

// Whether a failed socket() or accept() meant that no descriptor (or kernel memory for
// one) was left, rather than trouble with that one connection.
bool means_out_of_descriptors(int error);

// Descriptors open in this process now (/proc/self/fd).
std::uint64_t open_descriptor_count();

// Allocations that fit in `limit` descriptors once `reserved` (listeners, the admin API,
// Redis, logs, headroom) are set aside; 0 when none fit.
std::uint32_t allocations_within(std::uint64_t limit, std::uint64_t reserved);

}  // namespace hearth::relay
