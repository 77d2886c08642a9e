#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <utility>

#include "auth/embedded_session_store.h"
#include "auth/redis_session_store.h"
#include "relay/daemon/daemon.h"
#include "relay/daemon/systemd_notify.h"
#include "relay/net/tls_context.h"
#include "relay/net/worker.h"

namespace hearth::relay {

namespace {}  // namespace

DaemonControl::DaemonControl(event_base* main_base, std::vector<std::unique_ptr<Worker>>& workers,
                             SharedState& shared, config::Config& config, std::string config_path,
                             auth::EmbeddedSessionStore* embedded, auth::RedisSessionStore* redis,
                             std::int64_t started_unix)
    : main_base_(main_base),
      main_tasks_(main_base),
      workers_(workers),
      shared_(shared),
      config_(config),
      config_path_(std::move(config_path)),
      embedded_(embedded),
      redis_(redis),
      started_unix_(started_unix) {
    minting_secret_ = config_.secrets.empty() ? "" : config_.secrets.back().value;
}

std::vector<DaemonControl::SecretName> DaemonControl::secret_names() const {
    std::vector<SecretName> names;
    for (const auto& secret : config_.secrets) {
        names.push_back({secret.name, "config"});
    }
    for (const auto& secret : redis_secrets_) {
        names.push_back({secret.name, "redis"});
    }
    return names;
}

void DaemonControl::put_secret(const std::string& name, const std::string& value,
                               std::function<void(bool)> done) {
    if (redis_ == nullptr) {
        done(false);
        return;
    }
    redis_->put_secret(name, value, [this, done](bool stored) {
        redis_->load_secrets([this, done, stored](std::vector<auth::NamedSecret> secrets) {
            set_redis_secrets(std::move(secrets), [done, stored] { done(stored); });
        });
    });
}

void DaemonControl::retire_secret(const std::string& name, std::function<void(bool)> done) {
    if (redis_ == nullptr) {
        done(false);
        return;
    }
    redis_->remove_secret(name, [this, done](bool removed) {
        redis_->load_secrets([this, done, removed](std::vector<auth::NamedSecret> secrets) {
            set_redis_secrets(std::move(secrets), [done, removed] { done(removed); });
        });
    });
}

void DaemonControl::set_redis_secrets(std::vector<auth::NamedSecret> secrets,
                                      std::function<void()> done) {
    redis_secrets_ = std::move(secrets);
    apply_secrets(std::move(done));
}

// The ring every worker checks with: the config's secrets in their order, then Redis's by
// name; the last one is the newest, the one minting uses.
void DaemonControl::apply_secrets(std::function<void()> done) {
    auth::SecretRing ring;
    for (const auto& secret : config_.secrets) {
        ring.add({secret.name, secret.value});
    }
    for (const auto& secret : redis_secrets_) {
        ring.add(secret);
    }
    if (const auto* newest = ring.newest()) {
        minting_secret_ = newest->value;
    }
    std::string names;
    for (const auto& secret : ring.active()) {
        names += (names.empty() ? "" : ", ") + secret.name;
    }
    // Logged, and `done` called, once every worker checks with the new ring.
    fan_out<bool>(
        [ring](Worker& worker) {
            worker.replace_secrets(ring);
            return true;
        },
        [names, done = std::move(done)](std::vector<bool>) {
            spdlog::info("secrets in use: {} (minting with the last)", names);
            if (done) {
                done();
            }
        });
}

void DaemonControl::reload(std::function<void(ReloadReport)> done) {
    systemd_notify("RELOADING=1");
    struct Ready {
        ~Ready() { systemd_notify("READY=1"); }
    } ready_again;
    ReloadReport report;
    config::Config next = config_;
    if (!config_path_.empty()) {
        auto loaded = config::load_config_file(config_path_);
        if (!loaded.config) {
            for (const auto& error : loaded.errors) {
                report.errors.push_back(error.to_string());
            }
            spdlog::error(
                "reload: {} refused whole ({} errors, first: {}); the running config stays",
                config_path_, report.errors.size(), report.errors.front());
            if (done) {
                done(report);
            }
            return;
        }
        next = std::move(*loaded.config);
    }
    // What needs new sockets or threads waits for a restart; say so, keep the old value.
    const auto restart_if = [&](bool changed, const char* key) {
        if (changed) {
            report.restart_keys.emplace_back(key);
        }
    };
    restart_if(next.listen_udp != config_.listen_udp, "listen.udp");
    restart_if(next.listen_tcp != config_.listen_tcp, "listen.tcp");
    restart_if(next.listen_tls != config_.listen_tls, "listen.tls");
    restart_if(next.relay_ipv4 != config_.relay_ipv4 || next.relay_ipv6 != config_.relay_ipv6 ||
                   next.relay_port_min != config_.relay_port_min ||
                   next.relay_port_max != config_.relay_port_max,
               "relay");
    restart_if(next.workers != config_.workers, "workers");
    restart_if(next.pin_workers != config_.pin_workers, "pin_workers");
    restart_if(next.admin_listen != config_.admin_listen, "admin.listen");
    restart_if(next.session_store != config_.session_store ||
                   next.redis_host != config_.redis_host || next.redis_port != config_.redis_port,
               "session_store");
    restart_if(next.realm != config_.realm, "realm");
    restart_if(next.nonce_lifetime != config_.nonce_lifetime, "limits.nonce_lifetime");
    restart_if(next.auth_failures_before_ban != config_.auth_failures_before_ban ||
                   next.auth_failure_window != config_.auth_failure_window ||
                   next.auth_ban != config_.auth_ban,
               "limits.auth_failures_before_ban, auth_failure_window and auth_ban");
    restart_if(next.stream_output_buffer_bytes != config_.stream_output_buffer_bytes ||
                   next.stream_idle_timeout != config_.stream_idle_timeout ||
                   next.tls_handshake_timeout != config_.tls_handshake_timeout ||
                   next.max_connections != config_.max_connections ||
                   next.max_connections_per_source != config_.max_connections_per_source,
               "limits.stream_* and connection limits");

    // Applied live: secrets, the TLS certificate, the log level.
    if (!config_.listen_tls.empty()) {
        std::string error;
        auto tls = make_server_tls_context(next.tls_certificate, next.tls_private_key, error);
        if (!tls) {
            spdlog::error("reload: new TLS certificate refused, keeping the old one: {}", error);
            report.errors.push_back("tls: " + error);
        } else {
            config_.tls_certificate = next.tls_certificate;
            config_.tls_private_key = next.tls_private_key;
            report.applied_keys.emplace_back("tls");
            // Logged once every worker hands the new certificate to new connections.
            fan_out<bool>(
                [tls](Worker& worker) {
                    worker.set_tls_context(tls);
                    return true;
                },
                [path = config_.tls_certificate](std::vector<bool>) {
                    spdlog::info("reload: TLS certificate reloaded from {}", path);
                });
        }
    }
    config_.secrets = next.secrets;
    report.applied_keys.emplace_back("auth.secrets");
    // Allocation limits, lifetimes, the unauthenticated rate and the peer policy apply to
    // what comes next; existing allocations are left as they are.
    config_.peer_allow = next.peer_allow;
    config_.allocation_lifetime_default = next.allocation_lifetime_default;
    config_.allocation_lifetime_max = next.allocation_lifetime_max;
    config_.max_permissions_per_allocation = next.max_permissions_per_allocation;
    config_.max_channels_per_allocation = next.max_channels_per_allocation;
    config_.unauthenticated_requests_per_second = next.unauthenticated_requests_per_second;
    config_.allocate_requests_per_second = next.allocate_requests_per_second;
    config_.upkeep_requests_per_second = next.upkeep_requests_per_second;
    config_.max_allocations = next.max_allocations;
    config_.max_allocations_per_user = next.max_allocations_per_user;
    config_.allocation_bandwidth_bps = next.allocation_bandwidth_bps;
    config_.session_bandwidth_bps = next.session_bandwidth_bps;
    config_.alternate_server = next.alternate_server;
    config_.alternate_domain = next.alternate_domain;
    shared_.limits.quota.set_limits(
        std::min(config_.max_allocations, shared_.descriptor_allocation_cap),
        config_.max_allocations_per_user);
    shared_.limits.session_budgets.set_rate(config_.session_bandwidth_bps);
    for (auto& worker : workers_) {
        worker->post([applied = config_](Worker& target) { target.apply_config(applied); });
    }
    report.applied_keys.emplace_back("peer_policy");
    report.applied_keys.emplace_back("limits");
    config_.log_level = next.log_level;
    spdlog::set_level(next.log_level == config::LogLevel::trace   ? spdlog::level::trace
                      : next.log_level == config::LogLevel::debug ? spdlog::level::debug
                      : next.log_level == config::LogLevel::info  ? spdlog::level::info
                      : next.log_level == config::LogLevel::warn  ? spdlog::level::warn
                                                                  : spdlog::level::err);
    report.applied_keys.emplace_back("log_level");
    for (const auto& key : report.restart_keys) {
        spdlog::warn("reload: {} changed but needs a restart; the running value stays", key);
    }
    report.applied = true;
    auto finish = [report, done = std::move(done)] {
        spdlog::info("reload: done");
        if (done) {
            done(report);
        }
    };
    if (redis_ != nullptr) {
        redis_->load_secrets([this, finish](std::vector<auth::NamedSecret> secrets) {
            set_redis_secrets(std::move(secrets), finish);
        });
    } else {
        apply_secrets(finish);
    }
}

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
        workers_[index]->post([gather, task, index, main_tasks](Worker& worker) {
            Result result = task(worker);
            std::lock_guard lock(gather->mutex);
            gather->results[index] = std::move(result);
            if (--gather->pending == 0) {
                main_tasks->post([gather] { gather->finish(std::move(gather->results)); });
            }
        });
    }
}

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

DaemonControl::~DaemonControl() {
    for (event* timer : {drain_timer_, registry_timer_, quality_timer_}) {
        if (timer != nullptr) {
            event_free(timer);
        }
    }
}

void DaemonControl::stop() {
    for (auto& worker : workers_) {
        worker->stop();
    }
    event_base_loopexit(main_base_, nullptr);
}

void DaemonControl::post_redirect(bool draining, std::optional<turn::Redirect> redirect) {
    for (auto& worker : workers_) {
        worker->post([draining, redirect](Worker& target) {
            target.server().set_draining(draining, redirect);
        });
    }
}

void DaemonControl::register_node() {
    if (redis_ == nullptr) {
        return;
    }
    redis_->set_node_info([this] {
        auth::NodeInfo info;
        const std::string host = config_.relay_ipv4 ? config_.relay_ipv4->to_string() : "";
        const auto port = config_.listen_udp.empty() ? 3478 : config_.listen_udp.front().port;
        info.turn = host + ":" + std::to_string(port);
        info.admin = config_.admin_listen ? config_.admin_listen->to_string() : "";
        info.draining = draining_;
        info.allocations = shared_.limits.quota.total();
        info.seen_unix = unix_now();
        return info;
    });
    redis_->announce();
    if (config_.metrics_interval.count() > 0 && quality_timer_ == nullptr) {
        quality_timer_ = event_new(
            main_base_, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* self) {
                static_cast<DaemonControl*>(self)->write_quality();
            },
            this);
        const timeval every{static_cast<time_t>(config_.metrics_interval.count()), 0};
        event_add(quality_timer_, &every);
    }
    if (!config_.alternate_server && registry_timer_ == nullptr) {
        // Keep a redirect target for when this node is full, and for a drain.
        registry_timer_ = event_new(
            main_base_, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* self) {
                static_cast<DaemonControl*>(self)->refresh_redirect_from_registry();
            },
            this);
        const timeval every{10, 0};
        event_add(registry_timer_, &every);
    }
}

void DaemonControl::write_quality() {
    collect([this](std::vector<WorkerSnapshot> workers) {
        const auto ttl = config_.metrics_interval * 3;
        for (const auto& worker : workers) {
            for (const auto& a : worker.allocations) {
                const auto leg = [](const turn::DirectionCounters& counters, std::uint64_t bps,
                                    const turn::MediaTotals& media) {
                    return fmt::format(
                        R"({{"bits_per_second":{},"bytes":{},"dropped":{},"rtp_expected":{},)"
                        R"("rtp_lost":{},"jitter_ms":{:.2f}}})",
                        bps, counters.bytes, counters.dropped(), media.rtp_expected, media.rtp_lost,
                        media.jitter_milliseconds);
                };
                const std::string json = fmt::format(
                    R"({{"node":"{}","allocation":{},"user":"{}","transport":"{}",)"
                    R"("quality":{},"at":{},"client_to_peer":{},"peer_to_client":{}}})",
                    redis_->node_id(), a.id, a.user_id, a.transport, a.quality, unix_now(),
                    leg(a.client_to_peer, a.client_to_peer_bps, a.client_to_peer_media),
                    leg(a.peer_to_client, a.peer_to_client_bps, a.peer_to_client_media));
                redis_->write_quality(a.session_id, redis_->node_id() + "/" + std::to_string(a.id),
                                      json, ttl);
            }
        }
    });
}

void DaemonControl::list_nodes(std::function<void(std::vector<auth::NodeInfo>)> done) {
    if (redis_ == nullptr) {
        done({});
        return;
    }
    redis_->list_nodes(std::move(done));
}

void DaemonControl::drain(std::chrono::seconds deadline) {
    draining_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + deadline;
    systemd_notify("STOPPING=1");
    spdlog::info(
        "draining: new allocations are redirected; exiting when the last one ends or "
        "in {} s",
        deadline.count());
    if (config_.alternate_server) {
        post_redirect(true, turn::Redirect{*config_.alternate_server, config_.alternate_domain});
    } else if (redis_ != nullptr) {
        refresh_redirect_from_registry();
    } else {
        post_redirect(true, std::nullopt);
    }
    if (redis_ != nullptr) {
        redis_->announce();
    }
    if (drain_timer_ == nullptr) {
        drain_timer_ = event_new(
            main_base_, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* self) {
                static_cast<DaemonControl*>(self)->check_drain_done();
            },
            this);
    }
    const timeval every_second{1, 0};
    event_add(drain_timer_, &every_second);
    check_drain_done();
}

// The least loaded live node that is not draining, as registered in Redis: where a
// draining or full node sends new allocations.
void DaemonControl::refresh_redirect_from_registry() {
    redis_->list_nodes([this](std::vector<auth::NodeInfo> nodes) {
        std::optional<turn::Redirect> redirect;
        std::uint64_t fewest = UINT64_MAX;
        for (const auto& node : nodes) {
            const auto address = TransportAddress::parse(node.turn);
            if (!node.draining && node.id != redis_->node_id() && address &&
                node.allocations < fewest) {
                fewest = node.allocations;
                redirect = turn::Redirect{*address, config_.alternate_domain};
            }
        }
        if (draining_) {
            if (redirect) {
                spdlog::info("draining: redirecting to {}", redirect->alternate_server.to_string());
            } else {
                spdlog::warn("draining: no other live node in Redis; new allocations get 508");
            }
        }
        post_redirect(draining_, redirect);
    });
}

void DaemonControl::check_drain_done() {
    if (!draining_) {
        return;
    }
    const std::uint32_t left = shared_.limits.quota.total();
    if (left == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
        spdlog::info("drain done: {} allocation(s) left; stopping", left);
        event_del(drain_timer_);
        stop();
    }
}

void DaemonControl::undrain() {
    const bool was_draining = std::exchange(draining_, false);
    if (drain_timer_ != nullptr) {
        event_del(drain_timer_);
    }
    std::optional<turn::Redirect> capacity;
    if (config_.alternate_server) {
        capacity = turn::Redirect{*config_.alternate_server, config_.alternate_domain};
    }
    post_redirect(false, capacity);
    if (was_draining) {
        systemd_notify("READY=1");
        if (redis_ != nullptr) {
            redis_->announce();
        }
        spdlog::info("undrained: accepting new allocations");
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
