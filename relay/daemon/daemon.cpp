#include "relay/daemon/daemon.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "relay/daemon/fast_path_start.h"
#include "relay/daemon/host_check.h"
#include "relay/daemon/log_level.h"
#include "relay/daemon/session_stores.h"
#include "relay/daemon/signals.h"
#include "relay/daemon/systemd_notify.h"
#include "relay/daemon/watchdog.h"
#include "relay/net/descriptor_limit.h"
#include "relay/net/worker_group.h"

namespace hearth::relay {

namespace {

struct EventBaseDeleter {
    void operator()(event_base* base) const { event_base_free(base); }
};

void start_logging(config::LogLevel level) {
    // Logs go to stderr so stdout stays free for what the user asked for (the demo banner).
    spdlog::set_default_logger(spdlog::stderr_color_mt("hearthd"));
    apply_log_level(level);
    evthread_use_pthreads();
    std::signal(SIGPIPE, SIG_IGN);
}

// The limits every worker shares, and the key every worker's nonces are made with.
std::unique_ptr<SharedState> shared_state_for(const config::Config& config,
                                              auth::SessionStore& store) {
    const auto& limits = config.limits;
    auto shared = std::unique_ptr<SharedState>(new SharedState{
        turn::SharedLimits{
            turn::AllocationQuota(limits.max_allocations, limits.max_allocations_per_user),
            turn::SessionBudgets(limits.session_bandwidth_bps),
            turn::SourceBanList(limits.auth_failures_before_ban, limits.auth_failure_window,
                                limits.auth_ban, limits.auth_failures_before_throttle)},
        {},
        &store,
        {},
        ConnectionLimiter(limits.max_connections, limits.max_connections_per_source,
                          limits.unauthenticated_connections_percent)});
    if (RAND_bytes(reinterpret_cast<unsigned char*>(shared->nonce_key.data()),
                   static_cast<int>(shared->nonce_key.size())) != 1) {
        spdlog::error("cannot draw a random nonce key");
        return nullptr;
    }
    return shared;
}

// What is open now (listeners, the event bases, Redis) plus room for the admin API, logs
// and a burst of accepts is set aside; the rest bounds allocations.
bool cap_allocations_by_descriptors(const config::Config& config, SharedState& shared) {
    const std::uint64_t descriptor_limit = raise_descriptor_limit();
    const bool takes_streams =
        !config.listen.tcp.empty() || !config.listen.tls.empty() || !config.listen.mux.empty();
    shared.descriptor_allocation_cap =
        allocations_within(descriptor_limit, open_descriptor_count() + 64,
                           takes_streams ? config.limits.max_connections : 0);
    if (shared.descriptor_allocation_cap == 0) {
        spdlog::error(
            "the file descriptor limit ({}) leaves no room for allocations; raise "
            "LimitNOFILE (systemd) or ulimit -n",
            descriptor_limit);
        return false;
    }
    if (shared.descriptor_allocation_cap < config.limits.max_allocations) {
        spdlog::warn("limits.max_allocations {} lowered to {}: the file descriptor limit is {}",
                     config.limits.max_allocations, shared.descriptor_allocation_cap,
                     descriptor_limit);
    }
    shared.limits.quota.set_limits(
        std::min(config.limits.max_allocations, shared.descriptor_allocation_cap),
        config.limits.max_allocations_per_user);
    return true;
}

std::string listening_summary(const config::Config& config) {
    std::string listening;
    for (const auto& [transport, addresses] :
         {std::pair{"udp", &config.listen.udp}, std::pair{"tcp", &config.listen.tcp},
          std::pair{"tls", &config.listen.tls}, std::pair{"mux", &config.listen.mux}}) {
        for (const auto& address : *addresses) {
            listening += std::string(" ") + transport + " " + address.to_string();
        }
    }
    return listening;
}

// Refuses to start on an address it cannot bind: another process holds it (address_in_use.h
// says why a second hearthd could otherwise bind it too), or the host does not have it.
bool addresses_bindable(const config::Config& config) {
    const auto problems = address_problems(config);
    for (const auto& problem : problems) {
        spdlog::error("{}", problem);
    }
    return problems.empty();
}

// The audit trail, when it has somewhere to go: its file, and Redis's streams with the
// Redis store. False when the file cannot be opened: an audit trail asked for and not
// kept is a reason not to start.
bool open_audit_trail(const config::Config& config, SessionStores& stores,
                      std::unique_ptr<AuditTrail>& trail) {
    const auto& audit = config.audit;
    auth::RedisSessionStore* redis = stores.redis();
    if (audit.path.empty() && redis == nullptr) {
        return true;
    }
    std::string error;
    trail = AuditTrail::open({audit.path, audit.max_file_size, audit.max_files}, stores.node_id(),
                             error);
    if (!trail) {
        spdlog::error("cannot open the audit file {} (audit.path): {}", audit.path, error);
        return false;
    }
    if (redis != nullptr) {
        const auth::AuditStreams streams{audit.redis_stream_maxlen, audit.session_stream_maxlen,
                                         audit.session_stream_ttl};
        trail->set_stream(
            [redis, streams](const std::string& session, const std::string& line,
                             std::function<void(bool)> done) {
                redis->append_audit(session, line, streams, std::move(done));
            },
            audit.redis_max_in_flight);
    }
    spdlog::info("audit trail: {}{}", audit.path.empty() ? "no file" : audit.path,
                 redis != nullptr ? ", Redis streams hearth:audit" : "");
    return true;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int run_daemon(const config::Config& config, const std::string& config_path,
               const std::function<bool(DaemonControl&)>& on_ready) {
    start_logging(config.log_level);
    if (!addresses_bindable(config)) {
        return 1;
    }
    const std::unique_ptr<event_base, EventBaseDeleter> main_base(event_base_new());
    DaemonControl* control_for_revocations = nullptr;  // set once the control exists
    SessionStores stores(
        main_base.get(), config,
        [&control_for_revocations](const std::string& session, const std::string& user) {
            if (control_for_revocations != nullptr) {
                control_for_revocations->delete_session_allocations(session, user,
                                                                    [](std::size_t) {});
            }
        });
    auto shared = shared_state_for(config, stores.active());
    std::string tls_problem;
    const auto tls_context = load_tls_context(config, tls_problem);
    if (!tls_context) {
        spdlog::error("{}", tls_problem);
    }
    // Declared before the workers: their last events (allocations deleted at shutdown)
    // are written to it.
    std::unique_ptr<AuditTrail> audit;
    if (!shared || !tls_context || !open_audit_trail(config, stores, audit)) {
        return 1;
    }
    shared->audit = audit.get();
    shared->records = &stores.records();
    const unsigned worker_count =
        config.workers != 0 ? config.workers : std::max(1u, std::thread::hardware_concurrency());
    // Before the workers, which hand it channels, and gone after them: its links detach
    // the program when it goes, and with hearthd's process if it dies.
    const auto fast_path = start_fast_path(config, worker_count);
    shared->fast_path = fast_path.get();
    auto workers = std::make_unique<WorkerGroup>(worker_count, config, *shared, *tls_context);
    if (std::string error; !workers->open_listeners(config, error)) {
        spdlog::error("cannot open listeners: {}", error);
        return 1;
    }
    if (!cap_allocations_by_descriptors(config, *shared)) {
        return 1;
    }
    workers->start(config.pin_workers);

    auto control = std::make_unique<DaemonControl>(main_base.get(), *workers, *shared, config,
                                                   config_path, stores.handles(), unix_now());
    control_for_revocations = control.get();
    auto signals = std::make_unique<DaemonSignals>(main_base.get(), *control);
    auto watchdog = std::make_unique<SystemdWatchdog>(main_base.get(), *workers);
    control->register_node();
    if (config.drain.alternate_server) {
        control->undrain();  // posts the capacity redirect to every worker
    }
    stores.start(*control);
    int exit_code = 0;
    if (on_ready && !on_ready(*control)) {
        exit_code = 1;
        control->stop();
    } else {
        spdlog::info("hearthd ready: {} workers,{}", worker_count, listening_summary(config));
        systemd_notify("READY=1");
    }

    event_base_dispatch(main_base.get());
    // Nothing runs on the workers from here on; then what the control plane holds goes,
    // then the workers with their allocations, then the store they counted with.
    workers->join();
    control->release_attachments();
    control_for_revocations = nullptr;
    stores.close();
    watchdog.reset();
    signals.reset();
    workers.reset();
    control.reset();
    spdlog::info("hearthd stopped");
    return exit_code;
}

}  // namespace hearth::relay
