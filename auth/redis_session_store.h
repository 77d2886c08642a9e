#pragma once

// The Redis session store (README "Redis schema"): sessions written by the signaling
// backend, allocation caps counted across every node, revocations published on a channel.
// hiredis' asynchronous API on the event base of hearthd's main thread: no call blocks.
// Workers call in from their threads; their answers come back on the main thread.

#include <event2/event.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "auth/secret_ring.h"
#include "auth/session_store.h"
#include "relay/loop/task_queue.h"

struct redisAsyncContext;
struct redisReply;

namespace hearth::auth {

struct RedisSettings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string password;
    // A session seen active this recently is still honoured while Redis is unreachable.
    std::chrono::seconds grace{60};
    // This node's name in the per-node allocation counts.
    std::string node_id;
    // A node's counts expire this long after its last heartbeat: a dead node's
    // allocations stop counting against the caps.
    std::chrono::seconds count_ttl{30};
};

// A node as the others see it in Redis (hearth:node:{id}), for redirects and status --all.
struct NodeInfo {
    std::string id;
    std::string turn;   // host:port clients are redirected to
    std::string admin;  // admin API address
    bool draining = false;
    std::uint64_t allocations = 0;
    std::int64_t seen_unix = 0;
};

class RedisSessionStore final : public SessionStore {
  public:
    using Revoked = std::function<void(const std::string& session, const std::string& user)>;
    RedisSessionStore(event_base* base, RedisSettings settings, Revoked on_revoked);
    ~RedisSessionStore() override;

    void start();  // connects, subscribes, starts the heartbeat; main thread
    // Shutdown: from now on requests are answered store_unavailable and nothing is sent.
    void close() { closing_.store(true); }

    void reserve_allocation(std::string_view session_id, std::string_view user_id,
                            std::int64_t now_unix, VerdictCallback done) override;
    void release_allocation(std::string_view session_id, std::string_view user_id) override;
    void check_session(std::string_view session_id, std::string_view user_id, std::int64_t now_unix,
                       VerdictCallback done) override;

    // Ends a session (or removes one participant) and publishes the revocation; main thread.
    void revoke(const std::string& session, const std::string& user,
                std::function<void(bool)> done);
    // The secrets in hearth:secrets (name -> value), sorted by name; main thread.
    void load_secrets(std::function<void(std::vector<NamedSecret>)> done);
    // Called on the main thread each time the connection to Redis is (re)established.
    void on_connected(std::function<void()> callback) { on_connected_ = std::move(callback); }
    // hearth:secrets: adds (or replaces) and removes one; `done(false)` on failure.
    void put_secret(const std::string& name, const std::string& value,
                    std::function<void(bool)> done);
    void remove_secret(const std::string& name, std::function<void(bool)> done);
    // Call quality for the backend: one field per allocation in hearth:session:{id}:quality,
    // the hash expiring `ttl` after the last write; main thread.
    void write_quality(const std::string& session, const std::string& field,
                       const std::string& json, std::chrono::seconds ttl);
    // What this node's heartbeat registers; main thread.
    void set_node_info(std::function<NodeInfo()> provider) { node_info_ = std::move(provider); }
    // Registers now rather than at the next heartbeat (e.g. when draining starts).
    void announce();
    // The live nodes (those whose registration has not expired); main thread.
    void list_nodes(std::function<void(std::vector<NodeInfo>)> done);
    // The sessions listed in hearth:sessions; main thread.
    void list(std::function<void(std::vector<Session>)> done);

    bool connected() const { return connected_.load(std::memory_order_relaxed); }
    const std::string& node_id() const { return settings_.node_id; }
    std::uint64_t outages() const { return outages_.load(std::memory_order_relaxed); }

  private:
    using Reply = std::function<void(redisReply*)>;
    void connect();
    void schedule_reconnect();
    void command(std::vector<std::string> arguments, Reply on_reply);
    void judge(bool reserve, std::string session, std::string user, std::int64_t now_unix,
               VerdictCallback done);
    void heartbeat();
    static void on_connect(const redisAsyncContext* context, int status);
    static void on_disconnect(const redisAsyncContext* context, int status);
    static void on_reply(redisAsyncContext* context, void* reply, void* privdata);
    static void on_revocation(redisAsyncContext* context, void* reply, void* privdata);

    event_base* base_;
    RedisSettings settings_;
    Revoked on_revoked_;
    std::function<void()> on_connected_;
    std::function<NodeInfo()> node_info_;
    redisAsyncContext* commands_ = nullptr;
    redisAsyncContext* subscriber_ = nullptr;
    event* reconnect_timer_ = nullptr;
    event* heartbeat_timer_ = nullptr;
    std::chrono::milliseconds backoff_{500};
    std::atomic<bool> connected_{false};
    std::atomic<bool> closing_{false};
    std::atomic<std::uint64_t> outages_{0};
    // Main thread only.
    std::map<std::string, std::chrono::steady_clock::time_point> last_allowed_;  // session\nuser
    std::map<std::string, std::uint32_t> local_allocations_;                     // session
    // The workers' calls, run on the main thread. Last, so destroyed first: a call still
    // queued at shutdown is dropped with it (not leaked, not run on a half-destroyed store).
    relay::TaskQueue tasks_;
};

}  // namespace hearth::auth
