#pragma once

// TCP relay ports in use on this node. Relayed TCP sockets need SO_REUSEPORT (the
// outgoing connections of RFC 6062 Connect share the listener's port), which would also
// let two allocations bind one port; this registry keeps ports unique across workers.
// Touched only when an allocation is made or deleted.

#include <cstdint>
#include <mutex>
#include <set>

namespace hearth::relay {

class TcpPortRegistry {
  public:
    bool claim(std::uint16_t port);
    void release(std::uint16_t port);

  private:
    std::mutex mutex_;
    std::set<std::uint16_t> in_use_;
};

}  // namespace hearth::relay
