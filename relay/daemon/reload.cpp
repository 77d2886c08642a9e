// Reload (SIGHUP, `hearthctl reload`): the file is read again and compared with the
// running configuration key by key (config::plan_reload). Keys marked live take effect
// here; the others are named and keep their running value until a restart.

#include <spdlog/spdlog.h>

#include "auth/embedded_session_store.h"
#include "auth/redis_session_store.h"
#include "relay/config/reload_plan.h"
#include "relay/daemon/daemon_control.h"
#include "relay/daemon/log_level.h"
#include "relay/daemon/systemd_notify.h"
#include "relay/net/tls_context.h"

namespace hearth::relay {

void DaemonControl::reload(std::function<void(ReloadReport)> on_done) {
    systemd_notify("RELOADING=1");
    // Counted for /metrics as each reload ends, whoever asked for it (SIGHUP or the API).
    std::function<void(const ReloadReport&)> done =
        [this, on_done = std::move(on_done)](const ReloadReport& report) {
            const bool ok = report.applied && report.errors.empty();
            ++(ok ? reload_counts_.ok : reload_counts_.failed);
            reload_counts_.last_ok = ok;
            reload_counts_.last_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count();
            if (on_done) {
                on_done(report);
            }
        };
    ReloadReport report;
    config::Config loaded = config_;
    if (!config_path_.empty()) {
        auto result = config::load_config_file(config_path_);
        if (!result.config) {
            for (const auto& error : result.errors) {
                report.errors.push_back(error.to_string());
            }
            spdlog::error(
                "reload: {} refused whole ({} errors, first: {}); the running config stays",
                config_path_, report.errors.size(), report.errors.front());
            systemd_notify("READY=1");
            if (done) {
                done(report);
            }
            return;
        }
        loaded = std::move(*result.config);
    }
    auto plan = config::plan_reload(config_, loaded);
    for (const auto& key : plan.needs_restart) {
        spdlog::warn("reload: {} changed but needs a restart; the running value stays", key);
    }
    const config::TlsSection previous_tls = config_.tls;
    config_ = std::move(plan.effective);
    report.applied = true;
    report.applied_keys = std::move(plan.applied);
    report.restart_keys = std::move(plan.needs_restart);

    apply_log_level(config_.log_level);
    apply_tls(report, previous_tls);
    apply_limits();
    apply_embedded_sessions();
    if (!draining_) {
        post_redirect(false, configured_redirect());
    }
    for (const auto& hook : reload_hooks_) {
        hook(config_);
    }
    // The workers take the new configuration, then the secrets (also those in Redis);
    // the report goes out once every worker has both.
    fan_out<bool>(
        [applied = config_](Worker& worker) {
            worker.apply_config(applied);
            return true;
        },
        [this, report, done = std::move(done)](std::vector<bool>) {
            auto finish = [report, done] {
                spdlog::info("reload: done ({} applied, {} waiting for a restart)",
                             report.applied_keys.size(), report.restart_keys.size());
                systemd_notify("READY=1");
                if (done) {
                    done(report);
                }
            };
            if (stores_.redis != nullptr) {
                stores_.redis->load_secrets([this, finish](std::vector<auth::NamedSecret> secrets) {
                    set_redis_secrets(std::move(secrets), finish);
                });
            } else {
                apply_secrets(finish);
            }
        });
}

// The node's shared limits: allocation caps (never above what the descriptors allow),
// session budgets, bans and connection bounds.
void DaemonControl::apply_limits() {
    const auto& limits = config_.limits;
    shared_.limits.quota.set_limits(
        std::min(limits.max_allocations, shared_.descriptor_allocation_cap),
        limits.max_allocations_per_user);
    shared_.limits.session_budgets.set_rate(limits.session_bandwidth_bps);
    shared_.limits.auth_bans.configure(limits.auth_failures_before_ban, limits.auth_failure_window,
                                       limits.auth_ban, limits.auth_failures_before_throttle);
    shared_.connections.set_limits(limits.max_connections, limits.max_connections_per_source,
                                   limits.unauthenticated_connections_percent);
}

// The certificate is read again even when its paths did not change: a renewed
// certificate is written over the old one. One that fails to load is refused and the
// running one stays, with its paths.
void DaemonControl::apply_tls(ReloadReport& report, const config::TlsSection& previous) {
    if (!config_.serves_tls()) {
        return;
    }
    std::string error;
    auto tls = make_server_tls_context(config_.tls.certificate, config_.tls.private_key, error);
    if (!tls) {
        spdlog::error("reload: new TLS certificate refused, keeping the old one: {}", error);
        report.errors.push_back("tls: " + error);
        std::erase_if(report.applied_keys,
                      [](const std::string& key) { return key.starts_with("tls."); });
        config_.tls = previous;
        return;
    }
    fan_out<bool>(
        [tls](Worker& worker) {
            worker.set_tls_context(tls);
            return true;
        },
        [path = config_.tls.certificate](std::vector<bool>) {
            spdlog::info("reload: TLS certificate reloaded from {}", path);
        });
}

// The embedded store takes the file's sessions; allocations of a session that is no
// longer live for their user (ended, removed, the user no longer a participant) go at
// once, as a revocation would take them.
void DaemonControl::apply_embedded_sessions() {
    if (stores_.embedded == nullptr) {
        return;
    }
    stores_.embedded->replace_sessions(config_.session_store.sessions);
    auth::EmbeddedSessionStore* store = stores_.embedded;
    const auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    fan_out<std::size_t>(
        [store, now_unix](Worker& worker) {
            return worker.delete_allocations_if([store, now_unix](const turn::Owner& owner) {
                return !store->is_live(owner.session_id, owner.user_id, now_unix);
            });
        },
        [](std::vector<std::size_t> counts) {
            std::size_t total = 0;
            for (const auto count : counts) {
                total += count;
            }
            if (total > 0) {
                spdlog::info("reload: {} allocation(s) of sessions no longer live deleted", total);
            }
        });
}

}  // namespace hearth::relay
