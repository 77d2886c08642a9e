#include "relay/net/tcp_port_registry.h"

namespace hearth::relay {

bool TcpPortRegistry::claim(std::uint16_t port) {
    std::lock_guard lock(mutex_);
    return in_use_.insert(port).second;
}

void TcpPortRegistry::release(std::uint16_t port) {
    std::lock_guard lock(mutex_);
    in_use_.erase(port);
}

}  // namespace hearth::relay
