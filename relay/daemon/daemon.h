#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/secret_ring.h"
#include "relay/config/config.h"
#include "relay/loop/task_queue.h"
#include "relay/net/snapshot.h"
#include "relay/turn/turn_server.h"

namespace hearth::auth {
class EmbeddedSessionStore;
class RedisSessionStore;
struct NodeInfo;
class SessionStore;
struct Session;
}  // namespace hearth::auth

namespace hearth::relay {

class Worker;
class WorkerGroup;
struct SharedState;

// What the control plane (admin API) may do with a running daemon. Every method is called
// on the main thread; answers come back on the main thread's event base.
class DaemonControl {
  public:
    ~DaemonControl();
    DaemonControl(const DaemonControl&) = delete;
    DaemonControl& operator=(const DaemonControl&) = delete;
    // Exactly one of `embedded` and `redis` is set: the configured session store.
    DaemonControl(event_base* main_base, WorkerGroup& workers, SharedState& shared,
                  config::Config& config, std::string config_path,
                  auth::EmbeddedSessionStore* embedded, auth::RedisSessionStore* redis,
                  std::int64_t started_unix);

    event_base* base() const { return main_base_; }
    const config::Config& config() const { return config_; }
    // The session store, whichever it is. Answers come on the main thread.
    auth::SessionStore& session_store();
    bool session_store_up() const;
    void list_sessions(std::function<void(std::vector<auth::Session>)> done);
    // Ends a session, or removes one participant, in the store (Redis publishes the
    // revocation to every node); `done(false)` when the session or user is unknown.
    void end_session(const std::string& session, const std::string& user,
                     std::function<void(bool)> done);
    std::int64_t started_unix() const { return started_unix_; }
    std::size_t worker_count() const;
    SharedState& shared() { return shared_; }
    // Keeps a control-plane object (the admin server) alive until the loop has stopped.
    void keep(std::shared_ptr<void> attachment) { attachments_.push_back(std::move(attachment)); }
    void release_attachments() { attachments_.clear(); }

    struct ReloadReport {
        bool applied = false;
        std::vector<std::string> errors;        // the new config's, when it was refused whole
        std::vector<std::string> applied_keys;  // what took effect without a restart
        std::vector<std::string> restart_keys;  // what changed but needs a restart
    };
    // SIGHUP and `hearthctl reload`: rereads the config file, the TLS certificate and the
    // secrets (config and Redis). An invalid file is refused whole; allocations stay.
    // `done` gets the report once the new secrets are in every worker.
    void reload(std::function<void(ReloadReport)> done);
    struct SecretName {
        std::string name;
        std::string source;  // "config" or "redis"
    };
    std::vector<SecretName> secret_names() const;
    // Adds or retires a Redis-held secret, then reloads the secrets everywhere on this node
    // (other nodes take it at their next reload or reconnection). Config-held secrets are
    // changed by editing the file and reloading.
    void put_secret(const std::string& name, const std::string& value,
                    std::function<void(bool)> done);
    void retire_secret(const std::string& name, std::function<void(bool)> done);
    // The secret credentials are minted with: the newest of config and Redis.
    const std::string& minting_secret() const { return minting_secret_; }
    // Redis-held secrets arrived (start, reconnect, reload): every worker checks with them.
    void set_redis_secrets(std::vector<auth::NamedSecret> secrets, std::function<void()> done = {});

    // Drain: new Allocates are redirected (or refused with 508), existing allocations keep
    // relaying, and hearthd exits when the last one ends or `deadline` passes.
    void drain(std::chrono::seconds deadline);
    void undrain();
    bool draining() const { return draining_; }
    // Stops every worker and the main loop now.
    void stop();
    // The nodes registered in Redis (empty without Redis); main thread.
    void list_nodes(std::function<void(std::vector<auth::NodeInfo>)> done);
    // Registers this node in Redis with its heartbeat, and starts writing call quality
    // there every metrics_interval; main thread.
    void register_node();

    // Asks every worker for a snapshot; `done` gets them all, in worker order.
    void collect(std::function<void(std::vector<WorkerSnapshot>)> done);
    // Deletes the allocations of a session (of one user when `user_id` is not empty) on
    // every worker; `done` gets how many went.
    void delete_session_allocations(std::string session_id, std::string user_id,
                                    std::function<void(std::size_t)> done);

  private:
    // Runs `task` on every worker, then `finish` on the main thread once all have run.
    template <typename Result>
    void fan_out(std::function<Result(Worker&)> task,
                 std::function<void(std::vector<Result>)> finish);

    event_base* main_base_;
    TaskQueue main_tasks_;  // answers from the workers, run on the main thread
    WorkerGroup& workers_;
    void apply_secrets(std::function<void()> done);
    void post_redirect(bool draining, std::optional<turn::Redirect> redirect);
    // Picks the least loaded other live node from Redis as the redirect target.
    void refresh_redirect_from_registry();
    event* registry_timer_ = nullptr;
    event* quality_timer_ = nullptr;
    // Writes every allocation's call quality to Redis for the backend (README).
    void write_quality();
    void check_drain_done();

    bool draining_ = false;
    std::chrono::steady_clock::time_point drain_deadline_;
    event* drain_timer_ = nullptr;

    SharedState& shared_;
    config::Config& config_;
    std::string config_path_;
    std::vector<auth::NamedSecret> redis_secrets_;
    std::string minting_secret_;
    std::vector<std::shared_ptr<void>> attachments_;
    auth::EmbeddedSessionStore* embedded_;
    auth::RedisSessionStore* redis_;
    std::int64_t started_unix_;
};

// Starts the workers on `config` (read from `config_path`, "" for the demo), calls
// `on_ready` once every listener is bound (false from it stops hearthd), and runs until
// SIGINT or SIGTERM. Returns the exit code.
int run_daemon(const config::Config& config, const std::string& config_path,
               const std::function<bool(DaemonControl&)>& on_ready);

}  // namespace hearth::relay
