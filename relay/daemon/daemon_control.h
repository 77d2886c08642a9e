#pragma once

// What the control plane (the admin API, signals) may do with a running node. Every
// method is called on the main thread; answers come back on the main thread's loop. The
// methods live in files named for what they do: daemon_control.cpp (snapshots, sessions),
// reload.cpp, secrets.cpp, drain.cpp and node_registry.cpp.

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/minting_choice.h"
#include "auth/secret_ring.h"
#include "auth/session_records.h"
#include "auth/session_store.h"
#include "relay/config/config.h"
#include "relay/loop/task_queue.h"
#include "relay/net/connection_limiter.h"
#include "relay/net/snapshot.h"
#include "relay/net/worker_group.h"
#include "relay/turn/turn_server.h"

namespace hearth::auth {
class EmbeddedSessionStore;
class RedisSessionStore;
class RedisConnection;
struct NodeInfo;
}  // namespace hearth::auth

namespace hearth::relay {

class DaemonControl {
  public:
    // The configured session store: exactly one of the two is set.
    struct Stores {
        auth::EmbeddedSessionStore* embedded = nullptr;
        auth::RedisSessionStore* redis = nullptr;
        auth::SessionRecordStore* records = nullptr;  // always set
    };
    DaemonControl(event_base* main_base, WorkerGroup& workers, SharedState& shared,
                  config::Config config, std::string config_path, Stores stores,
                  std::int64_t started_unix);
    ~DaemonControl();
    DaemonControl(const DaemonControl&) = delete;
    DaemonControl& operator=(const DaemonControl&) = delete;

    event_base* base() const { return main_base_; }
    // The configuration in effect: the file as last loaded, but for keys that wait for a
    // restart, which keep the value the node started with.
    const config::Config& config() const { return config_; }
    std::int64_t started_unix() const { return started_unix_; }
    std::size_t worker_count() const;
    const ConnectionLimiter& connections() const;
    // Allocations this node admits at most: limits.max_allocations, lowered to what the
    // file descriptor limit allows.
    std::uint64_t allocation_capacity() const;
    // What the audit trail wrote and dropped (zeros when the node keeps none).
    AuditCounts audit_counts() const;
    // Keeps a control-plane object (the admin server) alive until the loop has stopped.
    void keep(std::shared_ptr<void> attachment) { attachments_.push_back(std::move(attachment)); }
    void release_attachments() { attachments_.clear(); }
    // Stops every worker and the main loop now.
    void stop();

    // Asks every worker for a snapshot; `done` gets them all, in worker order.
    void collect(std::function<void(std::vector<WorkerSnapshot>)> done);

    // --- sessions (daemon_control.cpp)
    auth::SessionStore& session_store();
    bool session_store_up() const;
    // Times the store was lost, and commands it left unanswered past the timeout (Redis).
    std::uint64_t session_store_outages() const;
    std::uint64_t session_store_timeouts() const;
    // The Redis connection, for its round-trip times and errors; null without Redis.
    const auth::RedisConnection* redis_connection() const;
    // Changes to session records that Redis did not take (0 with the embedded store).
    std::uint64_t session_record_updates_lost() const;
    void list_sessions(std::function<void(std::vector<auth::Session>)> done);
    // Session records (auth/session_records.h): in Redis with the Redis store.
    auth::SessionRecordStore& session_records() { return *stores_.records; }
    // Ends a session, or removes one participant, in the store (Redis publishes the
    // revocation to every node); `done(false)` when the session or user is unknown.
    void end_session(const std::string& session, const std::string& user,
                     std::function<void(bool)> done);
    // Deletes the allocations of a session (of one user when `user_id` is not empty) on
    // every worker; `done` gets how many went. A whole session's record says it was revoked.
    void delete_session_allocations(std::string session_id, std::string user_id,
                                    std::function<void(std::size_t)> done);
    // Ends the allocation `id` (hearthctl disconnect) on the worker that holds it, with
    // the reason "disconnected" in the log and the audit trail; `done(false)` when no
    // worker holds it.
    void disconnect_allocation(std::uint64_t id, std::function<void(bool)> done);

    // --- reload (reload.cpp)
    struct ReloadReport {
        bool applied = false;
        std::vector<std::string> errors;        // the new config's, when it was refused whole
        std::vector<std::string> applied_keys;  // keys that changed and took effect
        std::vector<std::string> restart_keys;  // keys that changed but need a restart
    };
    // SIGHUP and `hearthctl reload`: rereads the config file, the TLS certificate and the
    // secrets (config and Redis). An invalid file is refused whole; allocations stay.
    // `done` gets the report once every worker works with the new configuration.
    void reload(std::function<void(ReloadReport)> done);
    // Reloads so far, by result (failed: refused whole, or a part such as the TLS
    // certificate refused), and when the last one ended (Unix seconds, 0 for none).
    struct ReloadCounts {
        std::uint64_t ok = 0;
        std::uint64_t failed = 0;
        std::int64_t last_unix = 0;
        bool last_ok = true;
    };
    ReloadCounts reload_counts() const { return reload_counts_; }
    // Runs after every reload with the configuration in effect (the admin server takes
    // its token from it).
    void on_reload(std::function<void(const config::Config&)> hook) {
        reload_hooks_.push_back(std::move(hook));
    }

    // --- secrets (secrets.cpp)
    struct SecretName {
        std::string name;
        std::string source;  // "config" or "redis"
        bool minting = false;
    };
    std::vector<SecretName> secret_names() const;
    // Adds or retires a Redis-held secret (announced on hearth:secrets:changed, so every
    // node applies it within a second); `done` runs once this node's workers check with
    // the new secrets. Config-held secrets are changed by editing the file and reloading.
    void put_secret(const std::string& name, const std::string& value,
                    std::function<void(auth::SecretChange)> done);
    void retire_secret(const std::string& name, std::function<void(auth::SecretChange)> done);
    // The secret credentials are minted with: the newest that every live node reports
    // holding (auth/minting_choice.h), and the nodes a newer one waits for.
    const std::string& minting_secret() const { return minting_secret_; }
    const std::vector<std::string>& minting_waits_for() const { return minting_waits_for_; }
    // Subscribes to secret changes and starts reading the secrets again every 10 s (Redis).
    void watch_secrets();
    // Reads the secrets in Redis again and, if they changed, applies them on every worker;
    // `done` runs once that is over (at once when nothing changed or Redis did not answer).
    void refresh_redis_secrets(std::function<void()> done = {});
    // Redis-held secrets arrived (reload): every worker checks with them.
    void set_redis_secrets(std::vector<auth::NamedSecret> secrets, std::function<void()> done = {});

    // --- drain (drain.cpp)
    // New Allocates are redirected (or refused with 508), existing allocations keep
    // relaying, and hearthd exits (status 0) when the last one ends or `deadline` passes.
    // drain() checks that only a second later; its caller calls check_drain_done() once it
    // has told whoever asked (the admin API: once its answer is out).
    void drain(std::chrono::seconds deadline);
    void undrain();
    bool draining() const { return draining_; }
    // Stops hearthd if it is draining and no allocation is left or the deadline passed.
    void check_drain_done();

    // --- node registry (node_registry.cpp)
    // The nodes registered in Redis (empty without Redis).
    void list_nodes(std::function<void(std::vector<auth::NodeInfo>)> done);
    // Registers this node in Redis with its heartbeat, and starts writing call quality
    // there every metrics_interval.
    void register_node();

  private:
    // Runs `task` on every worker, then `finish` on the main thread once all have run.
    template <typename Result>
    void fan_out(std::function<Result(Worker&)> task,
                 std::function<void(std::vector<Result>)> finish);

    // reload.cpp
    void apply_limits();
    void apply_tls(ReloadReport& report, const config::TlsSection& previous);
    void apply_embedded_sessions();
    // secrets.cpp
    void apply_secrets(std::function<void()> done);
    void reload_secrets(std::function<void()> done);
    void secrets_tick();
    void refresh_minting();
    void choose_minting();
    // drain.cpp
    void post_redirect(bool draining, std::optional<turn::Redirect> redirect);
    std::optional<turn::Redirect> configured_redirect() const;
    void refresh_redirect_from_registry();
    // node_registry.cpp
    void write_quality();

    event_base* main_base_;
    TaskQueue main_tasks_;  // answers from the workers, run on the main thread
    WorkerGroup& workers_;
    SharedState& shared_;
    config::Config config_;
    std::string config_path_;
    Stores stores_;
    std::int64_t started_unix_;
    std::vector<std::function<void(const config::Config&)>> reload_hooks_;
    ReloadCounts reload_counts_;
    std::vector<std::shared_ptr<void>> attachments_;

    // What another live node reported holding in the registry.
    struct SecretReportOf {
        std::string node;
        auth::SecretReport names;
    };
    std::vector<auth::NamedSecret> redis_secrets_;
    auth::SecretRing ring_;  // what the workers check with
    std::vector<SecretReportOf> other_reports_;
    std::string minting_secret_;
    std::string minting_name_;
    std::vector<std::string> minting_waits_for_;
    bool minting_waits_ = false;
    event* secrets_timer_ = nullptr;
    unsigned secrets_ticks_ = 0;

    bool draining_ = false;
    std::chrono::steady_clock::time_point drain_deadline_;
    event* drain_timer_ = nullptr;
    event* registry_timer_ = nullptr;
    event* quality_timer_ = nullptr;
};

template <typename Result>
void DaemonControl::fan_out(std::function<Result(Worker&)> task,
                            std::function<void(std::vector<Result>)> finish) {
    struct Gather {
        std::mutex mutex;
        std::vector<Result> results;
        std::size_t pending;
        std::function<void(std::vector<Result>)> finish;
    };
    auto gather = std::make_shared<Gather>();
    gather->results.resize(workers_.size());
    gather->pending = workers_.size();
    gather->finish = std::move(finish);
    TaskQueue* main_tasks = &main_tasks_;
    for (std::size_t index = 0; index < workers_.size(); ++index) {
        workers_.post(index, [gather, task, index, main_tasks](Worker& worker) {
            Result result = task(worker);
            std::lock_guard lock(gather->mutex);
            gather->results[index] = std::move(result);
            if (--gather->pending == 0) {
                main_tasks->post([gather] { gather->finish(std::move(gather->results)); });
            }
        });
    }
}

}  // namespace hearth::relay
