#pragma once

// The session store a node is configured with: the embedded one (filled from the config)
// or Redis. Both are made at start; only the configured one is asked.

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>

#include "auth/embedded_session_store.h"
#include "auth/redis_session_store.h"
#include "auth/session_records.h"
#include "relay/config/config.h"
#include "relay/daemon/daemon_control.h"

namespace hearth::relay {

class SessionStores {
  public:
    // `revoked` runs on the main thread for a revocation published in Redis, or a session
    // the heartbeat found ended.
    using Revoked = std::function<void(const std::string& session, const std::string& user)>;
    SessionStores(event_base* main_base, const config::Config& config, Revoked revoked);

    auth::SessionStore& active();
    // Where session records are kept: Redis with the Redis store, else in memory.
    auth::SessionRecordStore& records();
    // Redis's store when it is the one configured, else null.
    auth::RedisSessionStore* redis() { return redis_.get(); }
    // This node's name: session_store.redis.node_id, or hostname:pid.
    const std::string& node_id() const { return node_id_; }
    DaemonControl::Stores handles();
    // Connects to Redis; on every (re)connection the secrets held there are read.
    void start(DaemonControl& control);
    // Shutdown: nothing more goes to Redis (allocations ending now are not counted down:
    // their counts expire with this node's registration).
    void close();

  private:
    std::string node_id_;
    auth::EmbeddedSessionStore embedded_;
    auth::EmbeddedSessionRecords embedded_records_;
    std::unique_ptr<auth::RedisSessionStore> redis_;
};

}  // namespace hearth::relay
