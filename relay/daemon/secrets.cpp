// Secrets held in the config and in Redis, and the ring every worker checks credentials
// with.

#include <spdlog/spdlog.h>

#include "auth/redis_session_store.h"
#include "relay/daemon/daemon_control.h"

namespace hearth::relay {

std::vector<DaemonControl::SecretName> DaemonControl::secret_names() const {
    std::vector<SecretName> names;
    for (const auto& secret : config_.auth.secrets) {
        names.push_back({secret.name, "config"});
    }
    for (const auto& secret : redis_secrets_) {
        names.push_back({secret.name, "redis"});
    }
    return names;
}

void DaemonControl::put_secret(const std::string& name, const std::string& value,
                               std::function<void(bool)> done) {
    if (stores_.redis == nullptr) {
        done(false);
        return;
    }
    stores_.redis->put_secret(name, value, [this, done](bool stored) {
        stores_.redis->load_secrets([this, done, stored](std::vector<auth::NamedSecret> secrets) {
            set_redis_secrets(std::move(secrets), [done, stored] { done(stored); });
        });
    });
}

void DaemonControl::retire_secret(const std::string& name, std::function<void(bool)> done) {
    if (stores_.redis == nullptr) {
        done(false);
        return;
    }
    stores_.redis->remove_secret(name, [this, done](bool removed) {
        stores_.redis->load_secrets([this, done, removed](std::vector<auth::NamedSecret> secrets) {
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
    for (const auto& secret : config_.auth.secrets) {
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

}  // namespace hearth::relay
