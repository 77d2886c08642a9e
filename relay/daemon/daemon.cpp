#include "relay/daemon/daemon.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "auth/embedded_session_store.h"
#include "auth/redis_session_store.h"
#include "relay/daemon/systemd_notify.h"
#include "relay/net/descriptor_limit.h"
#include "relay/net/worker_group.h"

namespace hearth::relay {

namespace {

spdlog::level::level_enum spdlog_level(config::LogLevel level) {
    switch (level) {
        case config::LogLevel::trace:
            return spdlog::level::trace;
        case config::LogLevel::debug:
            return spdlog::level::debug;
        case config::LogLevel::info:
            return spdlog::level::info;
        case config::LogLevel::warn:
            return spdlog::level::warn;
        case config::LogLevel::error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

struct SignalContext {
    event_base* main_base;
    WorkerGroup* workers;
    DaemonControl* control = nullptr;
};

// SIGINT stops at once. SIGTERM (systemctl stop) drains first, for at most
// drain.sigterm_deadline: allocations keep relaying while new ones go elsewhere.
void on_stop_signal(evutil_socket_t signal_number, short, void* context) {
    auto* signals = static_cast<SignalContext*>(context);
    const auto deadline = signals->control != nullptr
                              ? signals->control->config().sigterm_drain_deadline
                              : std::chrono::seconds(0);
    if (signal_number == SIGTERM && signals->control != nullptr && deadline.count() > 0 &&
        !signals->control->draining()) {
        spdlog::info("SIGTERM: draining for at most {} s (SIGINT stops at once)", deadline.count());
        signals->control->drain(deadline);
        return;
    }
    spdlog::info("signal {}: stopping", static_cast<int>(signal_number));
    systemd_notify("STOPPING=1");
    signals->workers->stop();
    event_base_loopexit(signals->main_base, nullptr);
}

// WATCHDOG=1 only while every worker's loop turns: each tick posts a task to every worker,
// and the keep-alive goes out only if all of them ran the previous one.
struct Watchdog {
    WorkerGroup* workers;
    std::atomic<std::size_t> answered{0};
    std::size_t expected = 0;
};

void on_watchdog_tick(evutil_socket_t, short, void* context) {
    auto* watchdog = static_cast<Watchdog*>(context);
    if (watchdog->answered.exchange(0) >= watchdog->expected) {
        systemd_notify("WATCHDOG=1");
    }
    watchdog->expected = watchdog->workers->size();
    for (std::size_t index = 0; index < watchdog->workers->size(); ++index) {
        watchdog->workers->post(index, [watchdog](Worker&) { watchdog->answered.fetch_add(1); });
    }
}

// SIGHUP: reload the config, the certificate and the secrets (DaemonControl::reload).
void on_reload_signal(evutil_socket_t, short, void* context) {
    auto* signals = static_cast<SignalContext*>(context);
    if (signals->control != nullptr) {
        signals->control->reload({});
    }
}

}  // namespace

int run_daemon(const config::Config& initial_config, const std::string& config_path,
               const std::function<bool(DaemonControl&)>& on_ready) {
    // The main thread's copy, which a reload updates; workers keep what they started with
    // but for what reload posts to them (secrets, the TLS context).
    config::Config config = initial_config;
    // Logs go to stderr so stdout stays free for what the user asked for (the demo banner).
    spdlog::set_default_logger(spdlog::stderr_color_mt("hearthd"));
    spdlog::set_level(spdlog_level(config.log_level));
    evthread_use_pthreads();
    std::signal(SIGPIPE, SIG_IGN);

    event_base* main_base = event_base_new();
    DaemonControl* control_pointer = nullptr;  // set once the workers exist

    auth::EmbeddedSessionStore embedded_store;
    for (const auto& seed : config.sessions) {
        embedded_store.put(seed);
    }
    std::unique_ptr<auth::RedisSessionStore> redis_store;
    if (config.session_store == "redis") {
        auth::RedisSettings settings;
        settings.host = config.redis_host;
        settings.port = config.redis_port;
        settings.password = config.redis_password;
        settings.grace = config.redis_grace;
        settings.node_id = config.node_id;
        if (settings.node_id.empty()) {
            char host[256] = {};
            gethostname(host, sizeof host - 1);
            settings.node_id = std::string(host) + ":" + std::to_string(getpid());
        }
        // A revocation on the channel, or a session found ended by the heartbeat, tears
        // its allocations down on every worker of this node.
        redis_store = std::make_unique<auth::RedisSessionStore>(
            main_base, settings,
            [&control_pointer](const std::string& session, const std::string& user) {
                if (control_pointer != nullptr) {
                    control_pointer->delete_session_allocations(session, user, [](std::size_t) {});
                }
            });
    }
    auth::SessionStore* session_store =
        redis_store ? static_cast<auth::SessionStore*>(redis_store.get()) : &embedded_store;
    SharedState shared{
        turn::SharedLimits{
            turn::AllocationQuota(config.max_allocations, config.max_allocations_per_user),
            turn::SessionBudgets(config.session_bandwidth_bps),
            turn::SourceBanList(config.auth_failures_before_ban, config.auth_failure_window,
                                config.auth_ban)},
        {},
        session_store,
        {},
        ConnectionLimiter(config.max_connections, config.max_connections_per_source)};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(shared.nonce_key.data()),
                   static_cast<int>(shared.nonce_key.size())) != 1) {
        spdlog::error("cannot draw a random nonce key");
        return 1;
    }

    unsigned worker_count = config.workers;
    if (worker_count == 0) {
        worker_count = std::max(1u, std::thread::hardware_concurrency());
    }
    SslContextPointer tls_context;
    if (!config.listen_tls.empty()) {
        std::string error;
        tls_context =
            make_server_tls_context(config.tls_certificate, config.tls_private_key, error);
        if (!tls_context) {
            spdlog::error("cannot load the TLS certificate: {}", error);
            return 1;
        }
    }
    auto workers_holder = std::make_unique<WorkerGroup>(worker_count, config, shared, tls_context);
    WorkerGroup& workers = *workers_holder;
    if (std::string error; !workers.open_listeners(config, error)) {
        spdlog::error("cannot open listeners: {}", error);
        return 1;
    }
    // What is open now (listeners, the event bases, Redis) plus room for the admin API,
    // logs and a burst of accepts is set aside; the rest bounds allocations.
    const std::uint64_t descriptor_limit = raise_descriptor_limit();
    shared.descriptor_allocation_cap =
        allocations_within(descriptor_limit, open_descriptor_count() + 64);
    if (shared.descriptor_allocation_cap == 0) {
        spdlog::error(
            "the file descriptor limit ({}) leaves no room for allocations; raise "
            "LimitNOFILE (systemd) or ulimit -n",
            descriptor_limit);
        return 1;
    }
    if (shared.descriptor_allocation_cap < config.max_allocations) {
        spdlog::warn("limits.max_allocations {} lowered to {}: the file descriptor limit is {}",
                     config.max_allocations, shared.descriptor_allocation_cap, descriptor_limit);
    }
    shared.limits.quota.set_limits(
        std::min(config.max_allocations, shared.descriptor_allocation_cap),
        config.max_allocations_per_user);

    SignalContext signals{main_base, &workers};
    event* sigint = evsignal_new(main_base, SIGINT, &on_stop_signal, &signals);
    event* sigterm = evsignal_new(main_base, SIGTERM, &on_stop_signal, &signals);
    event* sighup = evsignal_new(main_base, SIGHUP, &on_reload_signal, &signals);
    for (event* signal_event : {sigint, sigterm, sighup}) {
        event_add(signal_event, nullptr);
    }

    workers.start(config.pin_workers);
    std::string listening;
    for (const auto& address : config.listen_udp) {
        listening += " udp " + address.to_string();
    }
    for (const auto& address : config.listen_tcp) {
        listening += " tcp " + address.to_string();
    }
    for (const auto& address : config.listen_tls) {
        listening += " tls " + address.to_string();
    }
    const auto started_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    // Destroyed explicitly below, before the event base it uses.
    auto control_holder = std::make_unique<DaemonControl>(
        main_base, workers, shared, config, config_path, redis_store ? nullptr : &embedded_store,
        redis_store.get(), started_unix);
    DaemonControl& control = *control_holder;
    control_pointer = &control;
    signals.control = &control;
    control.register_node();
    if (config.alternate_server) {
        control.undrain();  // posts the capacity redirect to every worker
    }
    if (redis_store) {
        // Secrets may live in Redis too: read them at every (re)connection.
        redis_store->on_connected([&control, store = redis_store.get()] {
            store->load_secrets([&control](std::vector<auth::NamedSecret> secrets) {
                control.set_redis_secrets(std::move(secrets));
            });
        });
        redis_store->start();
    }
    int exit_code = 0;
    if (on_ready && !on_ready(control)) {
        exit_code = 1;
        workers.stop();
        event_base_loopexit(main_base, nullptr);
    } else {
        spdlog::info("hearthd ready: {} workers,{}", worker_count, listening);
        systemd_notify("READY=1");
    }

    Watchdog watchdog{&workers};
    event* watchdog_timer = nullptr;
    if (const auto interval = systemd_watchdog_interval()) {
        watchdog_timer = event_new(main_base, -1, EV_PERSIST, &on_watchdog_tick, &watchdog);
        const auto half = *interval / 2;
        const timeval every{static_cast<time_t>(half.count() / 1000000),
                            static_cast<suseconds_t>(half.count() % 1000000)};
        event_add(watchdog_timer, &every);
    }

    event_base_dispatch(main_base);
    if (watchdog_timer != nullptr) {
        event_free(watchdog_timer);
    }
    workers.join();
    control.release_attachments();
    control_pointer = nullptr;
    signals.control = nullptr;
    if (redis_store) {
        redis_store->close();  // allocations ending now are not counted down: their counts expire
    }
    workers_holder.reset();
    redis_store.reset();
    control_holder.reset();
    for (event* signal_event : {sigint, sigterm, sighup}) {
        event_free(signal_event);
    }
    event_base_free(main_base);
    spdlog::info("hearthd stopped");
    return exit_code;
}

}  // namespace hearth::relay
