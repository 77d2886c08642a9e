#pragma once

// Bounds on TCP and TLS client connections: in total and per source address (an IPv6
// source counts as its /64, source_prefix.h), across every worker. A connection is
// unauthenticated until it makes an allocation; unauthenticated connections may hold only
// a share of each bound, so the rest stays for connections that carry allocations however
// many strangers connect (issue 17). The node's share is divided among the workers: a
// worker whose share is full makes room by closing its own oldest unauthenticated
// connection (unauthenticated_connections.h), which it could not do for connections that
// strangers, choosing their addresses, had steered to another worker. A mutex, on purpose:
// it is touched when a connection opens, makes its allocation or closes, never per packet.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "relay/config/config.h"
#include "relay/stun/address_range.h"
#include "relay/stun/transport_address.h"

namespace hearth::relay {

struct StreamLimits {
    std::size_t output_buffer_bytes = 256 * 1024;
    std::chrono::seconds idle_timeout{660};
    std::chrono::seconds tls_handshake_timeout{10};
    // A connection without an allocation by then is closed, whatever it sends meanwhile.
    std::chrono::seconds unauthenticated_timeout{30};
    // Trusted load balancers: their connections start with a PROXY header (proxy_header.h).
    std::vector<AddressRange> proxy_protocol_from;
    // Multiplexing listeners: services TLS connections are passed to by the name they ask
    // for, and how many connections this worker passes on at once.
    std::vector<config::MuxUpstream> mux_upstreams;
    std::size_t max_upstream_connections = 4096;
};

class ConnectionLimiter {
  public:
    // `unauthenticated_percent` of `max_total` and of `max_per_source` (at least one each)
    // may be held by connections without an allocation.
    ConnectionLimiter(std::uint32_t max_total, std::uint32_t max_per_source,
                      std::uint32_t unauthenticated_percent);

    // Before the workers start: how many share the node's unauthenticated share (1 until).
    void set_workers(unsigned workers);

    enum class Result {
        admitted,
        total_reached,
        source_reached,
        unauthenticated_reached,         // the worker's part of the node's share
        source_unauthenticated_reached,  // the source's share
    };
    // A new connection on `worker`, unauthenticated. Refusals are not counted here: the
    // caller may make room (close an unauthenticated connection) and ask again; it counts
    // what it refuses.
    Result admit(const IpAddress& source, unsigned worker);
    void count_refusal(Result result);
    // The connection made an allocation: it leaves the unauthenticated share.
    void authenticated(const IpAddress& source, unsigned worker);
    void release(const IpAddress& source, unsigned worker, bool was_authenticated);
    // Reload: the bounds new connections meet; connections open stay open.
    void set_limits(std::uint32_t max_total, std::uint32_t max_per_source,
                    std::uint32_t unauthenticated_percent);

    std::uint64_t refused_total() const { return refused_total_.load(std::memory_order_relaxed); }
    std::uint64_t refused_per_source() const {
        return refused_per_source_.load(std::memory_order_relaxed);
    }
    std::uint64_t refused_unauthenticated() const {
        return refused_unauthenticated_.load(std::memory_order_relaxed);
    }
    std::uint32_t open() const;
    std::uint32_t unauthenticated_open() const;

  private:
    struct Hash {
        std::size_t operator()(const IpAddress& address) const noexcept {
            return TransportAddressHash{}(TransportAddress{address, 0});
        }
    };
    struct Count {
        std::uint32_t all = 0;
        std::uint32_t unauthenticated = 0;
    };
    void shares_changed();  // under the mutex

    mutable std::mutex mutex_;
    std::uint32_t max_total_ = 0;
    std::uint32_t max_per_source_ = 0;
    std::uint32_t unauthenticated_percent_ = 100;
    std::uint32_t max_unauthenticated_per_worker_ = 0;
    std::uint32_t max_unauthenticated_per_source_ = 0;
    std::uint32_t total_ = 0;
    std::uint32_t unauthenticated_ = 0;
    std::vector<std::uint32_t> unauthenticated_by_worker_ = std::vector<std::uint32_t>(1);
    std::unordered_map<IpAddress, Count, Hash> per_source_;
    std::atomic<std::uint64_t> refused_total_{0};
    std::atomic<std::uint64_t> refused_per_source_{0};
    std::atomic<std::uint64_t> refused_unauthenticated_{0};
};

}  // namespace hearth::relay
