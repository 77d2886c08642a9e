#pragma once

// What a TCP/TLS listener and its connections need from the worker they run on, handed
// in when the listener is built: the loop and its clock, the dispatcher every frame goes
// to, the node's connection bounds and the worker's connections without an allocation
// (which make room for newcomers), the TLS context and stream limits (both replaced on
// reload, on the worker's own thread), and the RFC 6062 relays a data connection joins.

#include <event2/event.h>

#include "relay/loop/task_queue.h"
#include "relay/net/client_dispatcher.h"
#include "relay/net/connection_limiter.h"
#include "relay/net/loop_clock.h"
#include "relay/net/tcp_relay.h"
#include "relay/net/tls_context.h"
#include "relay/net/unauthenticated_connections.h"

namespace hearth::relay {

struct StreamParts {
    event_base* base = nullptr;
    TaskQueue* tasks = nullptr;  // work for this loop after the current callback
    const LoopClock* clock = nullptr;
    ClientDispatcher* dispatcher = nullptr;
    ConnectionLimiter* connections = nullptr;
    UnauthenticatedConnections* unauthenticated = nullptr;  // this worker's
    const StreamLimits* limits = nullptr;
    const SslContextPointer* tls_context = nullptr;
    TcpRelay* tcp_relay = nullptr;                  // this worker's
    DataConnectionRouter* other_workers = nullptr;  // for a peer connection held elsewhere
    unsigned worker_index = 0;
    unsigned worker_count = 1;
};

}  // namespace hearth::relay
