#pragma once

// What every worker of a node shares, each part guarding itself: the cross-worker caps,
// limits and bans, the nonce key, the session store, the RFC 6062 relay ports, the relayed
// ports held, the connection bounds and the audit trail. None of it is touched per relayed
// packet but the session budgets' atomics and, for a peer on the relay's own host, the
// relayed ports' bits.

#include <array>
#include <cstddef>
#include <cstdint>

#include "auth/session_records.h"
#include "auth/session_store.h"
#include "relay/net/audit_trail.h"
#include "relay/net/connection_limiter.h"
#include "relay/net/tcp_port_registry.h"
#include "relay/turn/live_relayed_ports.h"
#include "relay/turn/shared_limits.h"
#include "relay/xdp/fast_path_program.h"

namespace hearth::relay {

struct SharedState {
    turn::SharedLimits limits;
    std::array<std::byte, 32> nonce_key{};
    auth::SessionStore* session_store = nullptr;
    TcpPortRegistry tcp_ports;
    ConnectionLimiter connections;
    unsigned worker_count = 1;
    std::uint32_t descriptor_allocation_cap = UINT32_MAX;  // what RLIMIT_NOFILE allows
    AuditTrail* audit = nullptr;  // the node's audit trail, outliving the workers; null: none
    auth::SessionRecordStore* records = nullptr;  // session records, outliving the workers
    xdp::FastPathProgram* fast_path = nullptr;    // the kernel fast path, or null: off
    turn::LiveRelayedPorts relayed_ports{};  // what the peer policy takes for other allocations
};

}  // namespace hearth::relay
