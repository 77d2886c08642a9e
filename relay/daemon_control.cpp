#include <atomic>
#include <mutex>

#include "auth/embedded_session_store.h"
#include "auth/redis_session_store.h"
#include "relay/daemon.h"
#include "relay/worker.h"

namespace hearth::relay {

namespace {

// Runs `task` on `base`'s thread. libevent's event_base_once is thread-safe once
// evthread_use_pthreads() has run (run_daemon does it first).
void run_on(event_base* base, std::function<void()> task) {
    auto* posted = new std::function<void()>(std::move(task));
    const int result = event_base_once(
        base, -1, EV_TIMEOUT,
        [](evutil_socket_t, short, void* argument) {
            std::unique_ptr<std::function<void()>> task(
                static_cast<std::function<void()>*>(argument));
            (*task)();
        },
        posted, nullptr);
    if (result != 0) {
        delete posted;
    }
}

}  // namespace

DaemonControl::DaemonControl(event_base* main_base, std::vector<std::unique_ptr<Worker>>& workers,
                             SharedState& shared, const config::Config& config,
                             auth::EmbeddedSessionStore* embedded, auth::RedisSessionStore* redis,
                             std::int64_t started_unix)
    : main_base_(main_base),
      workers_(workers),
      shared_(shared),
      config_(config),
      embedded_(embedded),
      redis_(redis),
      started_unix_(started_unix) {}

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
    event_base* main_base = main_base_;
    for (std::size_t index = 0; index < workers_.size(); ++index) {
        workers_[index]->post([gather, task, index, main_base](Worker& worker) {
            Result result = task(worker);
            std::lock_guard lock(gather->mutex);
            gather->results[index] = std::move(result);
            if (--gather->pending == 0) {
                run_on(main_base, [gather] { gather->finish(std::move(gather->results)); });
            }
        });
    }
}

auth::SessionStore& DaemonControl::session_store() {
    if (redis_ != nullptr) {
        return *redis_;
    }
    return *embedded_;
}

bool DaemonControl::session_store_up() const {
    return redis_ == nullptr || redis_->connected();
}

void DaemonControl::list_sessions(std::function<void(std::vector<auth::Session>)> done) {
    if (redis_ != nullptr) {
        redis_->list(std::move(done));
        return;
    }
    done(embedded_->sessions());
}

void DaemonControl::end_session(const std::string& session, const std::string& user,
                                std::function<void(bool)> done) {
    if (redis_ != nullptr) {
        redis_->revoke(session, user, std::move(done));
        return;
    }
    done(user.empty() ? embedded_->end_session(session)
                      : embedded_->remove_participant(session, user));
}

void DaemonControl::collect(std::function<void(std::vector<WorkerSnapshot>)> done) {
    fan_out<WorkerSnapshot>([](Worker& worker) { return worker.snapshot(); }, std::move(done));
}

void DaemonControl::delete_session_allocations(std::string session_id, std::string user_id,
                                               std::function<void(std::size_t)> done) {
    fan_out<std::size_t>(
        [session_id, user_id](Worker& worker) {
            return worker.server().delete_where_session(session_id, user_id,
                                                        turn::DeleteReason::revoked);
        },
        [done = std::move(done)](std::vector<std::size_t> counts) {
            std::size_t total = 0;
            for (const auto count : counts) {
                total += count;
            }
            done(total);
        });
}

}  // namespace hearth::relay
