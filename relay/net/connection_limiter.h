#pragma once

// Bounds on TCP and TLS client connections: in total and per source address (an IPv6
// source counts as its /64, source_prefix.h), across every worker. A mutex, on purpose: it is
// touched when a connection opens or closes, never per packet.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

struct StreamLimits {
    std::size_t output_buffer_bytes = 256 * 1024;
    std::chrono::seconds idle_timeout{660};
    std::chrono::seconds tls_handshake_timeout{10};
};

class ConnectionLimiter {
  public:
    ConnectionLimiter(std::uint32_t max_total, std::uint32_t max_per_source)
        : max_total_(max_total), max_per_source_(max_per_source) {}

    enum class Result { admitted, total_reached, source_reached };
    Result admit(const IpAddress& source);
    void release(const IpAddress& source);
    // Reload: the bounds new connections meet; connections open stay open.
    void set_limits(std::uint32_t max_total, std::uint32_t max_per_source);

    std::uint64_t refused_total() const { return refused_total_.load(std::memory_order_relaxed); }
    std::uint64_t refused_per_source() const {
        return refused_per_source_.load(std::memory_order_relaxed);
    }
    std::uint32_t open() const;

  private:
    struct Hash {
        std::size_t operator()(const IpAddress& address) const noexcept {
            return TransportAddressHash{}(TransportAddress{address, 0});
        }
    };
    mutable std::mutex mutex_;
    std::uint32_t max_total_;
    std::uint32_t max_per_source_;
    std::uint32_t total_ = 0;
    std::unordered_map<IpAddress, std::uint32_t, Hash> per_source_;
    std::atomic<std::uint64_t> refused_total_{0};
    std::atomic<std::uint64_t> refused_per_source_{0};
};

}  // namespace hearth::relay
