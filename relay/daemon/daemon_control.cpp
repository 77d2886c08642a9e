#include "relay/daemon/daemon_control.h"

#include <algorithm>

#include "auth/embedded_session_store.h"
#include "auth/redis_session_store.h"

namespace hearth::relay {

DaemonControl::DaemonControl(event_base* main_base, WorkerGroup& workers, SharedState& shared,
                             config::Config config, std::string config_path, Stores stores,
                             std::int64_t started_unix)
    : main_base_(main_base),
      main_tasks_(main_base),
      workers_(workers),
      shared_(shared),
      config_(std::move(config)),
      config_path_(std::move(config_path)),
      stores_(stores),
      started_unix_(started_unix) {
    // Until the workers have their first ring (at start), the config's newest.
    for (const auto& secret : config_.auth.secrets) {
        ring_.add(secret);
    }
    if (const auto* newest = ring_.newest()) {
        minting_secret_ = newest->value;
        minting_name_ = newest->name;
    }
}

DaemonControl::~DaemonControl() {
    for (event* timer : {drain_timer_, registry_timer_, quality_timer_, secrets_timer_}) {
        if (timer != nullptr) {
            event_free(timer);
        }
    }
}

std::size_t DaemonControl::worker_count() const {
    return workers_.size();
}

const ConnectionLimiter& DaemonControl::connections() const {
    return shared_.connections;
}

AuditCounts DaemonControl::audit_counts() const {
    return shared_.audit != nullptr ? shared_.audit->counts() : AuditCounts{};
}

void DaemonControl::stop() {
    workers_.stop();
    event_base_loopexit(main_base_, nullptr);
}

void DaemonControl::collect(std::function<void(std::vector<WorkerSnapshot>)> done) {
    fan_out<WorkerSnapshot>([](Worker& worker) { return worker.snapshot(); }, std::move(done));
}

auth::SessionStore& DaemonControl::session_store() {
    if (stores_.redis != nullptr) {
        return *stores_.redis;
    }
    return *stores_.embedded;
}

bool DaemonControl::session_store_up() const {
    return stores_.redis == nullptr || stores_.redis->connected();
}

std::uint64_t DaemonControl::session_store_outages() const {
    return stores_.redis == nullptr ? 0 : stores_.redis->outages();
}

std::uint64_t DaemonControl::session_record_updates_lost() const {
    return stores_.redis == nullptr ? 0 : stores_.redis->record_updates_lost();
}

std::uint64_t DaemonControl::allocation_capacity() const {
    return std::min<std::uint64_t>(config_.limits.max_allocations,
                                   shared_.descriptor_allocation_cap);
}

const auth::RedisConnection* DaemonControl::redis_connection() const {
    return stores_.redis == nullptr ? nullptr : &stores_.redis->connection();
}

std::uint64_t DaemonControl::session_store_timeouts() const {
    return stores_.redis == nullptr ? 0 : stores_.redis->timeouts();
}

void DaemonControl::list_sessions(std::function<void(std::vector<auth::Session>)> done) {
    if (stores_.redis != nullptr) {
        stores_.redis->list(std::move(done));
        return;
    }
    done(stores_.embedded->sessions());
}

void DaemonControl::end_session(const std::string& session, const std::string& user,
                                std::function<void(bool)> done) {
    if (stores_.redis != nullptr) {
        stores_.redis->revoke(session, user, std::move(done));
        return;
    }
    done(user.empty() ? stores_.embedded->end_session(session)
                      : stores_.embedded->remove_participant(session, user));
}

void DaemonControl::delete_session_allocations(std::string session_id, std::string user_id,
                                               std::function<void(std::size_t)> done) {
    if (user_id.empty()) {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        stores_.records->update(session_id, auth::record_revoked(now_ms), now_ms);
    }
    fan_out<std::size_t>(
        [session_id, user_id](Worker& worker) {
            return worker.delete_session_allocations(session_id, user_id);
        },
        [done = std::move(done)](std::vector<std::size_t> counts) {
            std::size_t total = 0;
            for (const auto count : counts) {
                total += count;
            }
            done(total);
        });
}

void DaemonControl::disconnect_allocation(std::uint64_t id, std::function<void(bool)> done) {
    // Ids carry their worker's index (Worker::worker_of), but asking each is as cheap and
    // answers "unknown" the same way for an id no worker could hold.
    fan_out<int>([id](Worker& worker) { return worker.disconnect(id) ? 1 : 0; },
                 [done = std::move(done)](std::vector<int> found) {
                     done(std::ranges::find(found, 1) != found.end());
                 });
}

}  // namespace hearth::relay
