#pragma once

// File descriptors bound how many allocations a node can hold: each needs a relay
// socket, and a TCP or TLS client also its connection. hearthd raises its soft
// RLIMIT_NOFILE to the hard limit at start and caps allocations at what the rest allows,
// so the cap answers 508 before socket() fails (and if it does anyway, the Allocate gets
// 508 too, and the listeners pause accepting).

#include <cstdint>

namespace hearth::relay {

// Raises the soft limit to the hard one; returns the limit in force afterwards.
std::uint64_t raise_descriptor_limit();

// Whether a failed socket() or accept() meant that no descriptor (or kernel memory for
// one) was left, rather than trouble with that one connection.
bool means_out_of_descriptors(int error);

// Descriptors open in this process now (/proc/self/fd).
std::uint64_t open_descriptor_count();

// Allocations that fit in `limit` descriptors once `reserved` (listeners, the admin API,
// Redis, logs, headroom) are set aside; 0 when none fit. An allocation takes one
// descriptor, its relay socket. A TCP or TLS client's connection is one more, opened
// before its Allocate: `stream_connections` of them (limits.max_connections where stream
// listeners exist, else 0) are set aside too, at most half of what is left, so that a
// UDP-only node holds twice the allocations of one that also takes streams.
std::uint32_t allocations_within(std::uint64_t limit, std::uint64_t reserved,
                                 std::uint64_t stream_connections);

}  // namespace hearth::relay
