// Secrets held in the config and in Redis, the ring every worker checks credentials with,
// and the one minting uses. With Redis the secrets are the cluster's: a change is
// announced on hearth:secrets:changed and every node reads them again at once (and every
// 10 s, should a message be lost); a new secret is minted with only once every live node
// reports holding it (auth/minting_choice.h).

#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth/redis_session_store.h"
#include "relay/daemon/daemon_control.h"

namespace hearth::relay {

namespace {

// How often the secrets in Redis are read again without being told, and how often a node
// whose newest secret waits for others looks at their reports.
constexpr int secrets_reread_ticks = 10;
constexpr timeval one_second{1, 0};

}  // namespace

std::vector<DaemonControl::SecretName> DaemonControl::secret_names() const {
    std::vector<SecretName> names;
    for (const auto& secret : config_.auth.secrets) {
        names.push_back({secret.name, "config", false});
    }
    for (const auto& secret : redis_secrets_) {
        names.push_back({secret.name, "redis", false});
    }
    // A name in both is the Redis one (SecretRing::add replaces).
    for (auto& entry : names) {
        entry.minting = entry.name == minting_name_;
    }
    return names;
}

void DaemonControl::put_secret(const std::string& name, const std::string& value,
                               std::function<void(auth::SecretChange)> done) {
    if (stores_.redis == nullptr) {
        done(auth::SecretChange::no_store);
        return;
    }
    stores_.redis->put_secret(name, value, [this, done](auth::SecretChange change) {
        refresh_redis_secrets([done, change] { done(change); });
    });
}

void DaemonControl::retire_secret(const std::string& name,
                                  std::function<void(auth::SecretChange)> done) {
    if (stores_.redis == nullptr) {
        done(auth::SecretChange::no_store);
        return;
    }
    stores_.redis->remove_secret(name, [this, done](auth::SecretChange change) {
        refresh_redis_secrets([done, change] { done(change); });
    });
}

void DaemonControl::watch_secrets() {
    if (stores_.redis == nullptr || secrets_timer_ != nullptr) {
        return;
    }
    stores_.redis->on_secrets_changed([this] { refresh_redis_secrets(); });
    secrets_timer_ = event_new(
        main_base_, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* self) {
            static_cast<DaemonControl*>(self)->secrets_tick();
        },
        this);
    event_add(secrets_timer_, &one_second);
}

// Every second: a node waiting to mint with its newest secret reads the others' reports;
// every tenth, the secrets are read again (a message on the channel can be lost: the
// subscription was down, or someone wrote hearth:secrets by hand without publishing).
void DaemonControl::secrets_tick() {
    if (++secrets_ticks_ % secrets_reread_ticks == 0) {
        refresh_redis_secrets();
    } else if (minting_waits_) {
        refresh_minting();
    }
}

void DaemonControl::refresh_redis_secrets(std::function<void()> done) {
    if (stores_.redis == nullptr) {
        if (done) {
            done();
        }
        return;
    }
    stores_.redis->load_secrets([this, done](std::optional<std::vector<auth::NamedSecret>> read) {
        if (!read || *read == redis_secrets_) {
            // Unchanged, or Redis did not answer (what is held stays held).
            refresh_minting();
            if (done) {
                done();
            }
            return;
        }
        set_redis_secrets(std::move(*read), done);
    });
}

// A reload: the config's secrets may have changed, so the ring is made again whether or not
// those in Redis did (and with those last held when Redis does not answer).
void DaemonControl::reload_secrets(std::function<void()> done) {
    if (stores_.redis == nullptr) {
        apply_secrets(std::move(done));
        return;
    }
    stores_.redis->load_secrets([this, done](std::optional<std::vector<auth::NamedSecret>> read) {
        set_redis_secrets(read.value_or(redis_secrets_), done);
    });
}

void DaemonControl::set_redis_secrets(std::vector<auth::NamedSecret> secrets,
                                      std::function<void()> done) {
    redis_secrets_ = std::move(secrets);
    apply_secrets(std::move(done));
}

// The ring every worker checks with: the config's secrets in their order, then Redis's by
// name; the last one is the newest.
void DaemonControl::apply_secrets(std::function<void()> done) {
    auth::SecretRing ring;
    for (const auto& secret : config_.auth.secrets) {
        ring.add({secret.name, secret.value});
    }
    for (const auto& secret : redis_secrets_) {
        ring.add(secret);
    }
    // Once every worker checks with the new ring: this node mints from it, tells the
    // registry what it holds (so the others may mint with a new secret), and `done` runs.
    fan_out<bool>(
        [ring](Worker& worker) {
            worker.replace_secrets(ring);
            return true;
        },
        [this, ring, done = std::move(done)](std::vector<bool>) {
            ring_ = ring;
            std::string names;
            for (const auto& secret : ring_.active()) {
                names += (names.empty() ? "" : ", ") + secret.name;
            }
            spdlog::info("secrets in use: {}", names);
            // Alone, a node mints with its newest at once. With Redis, the reports it last
            // read may be old: it keeps minting with what it did unless that was retired,
            // and moves to a newer secret only once it has read the others' reports again
            // (refresh_minting).
            const auto active = ring_.active();
            const bool still_held =
                std::any_of(active.begin(), active.end(), [this](const auth::NamedSecret& secret) {
                    return secret.name == minting_name_ && secret.value == minting_secret_;
                });
            if (stores_.redis == nullptr || !still_held) {
                choose_minting();
            }
            if (stores_.redis != nullptr) {
                stores_.redis->announce_secrets_held();
                refresh_minting();
            }
            if (done) {
                done();
            }
        });
}

// The other live nodes' reports, read from the registry, then the choice again.
void DaemonControl::refresh_minting() {
    if (stores_.redis == nullptr) {
        return;
    }
    stores_.redis->list_nodes([this](std::optional<std::vector<auth::NodeInfo>> nodes) {
        if (!nodes) {
            return;  // Redis did not answer: the last reports stand
        }
        other_reports_.clear();
        for (const auto& node : *nodes) {
            if (node.id != stores_.redis->node_id()) {
                other_reports_.push_back({node.id, auth::parse_report(node.secrets)});
            }
        }
        choose_minting();
    });
}

void DaemonControl::choose_minting() {
    std::vector<auth::SecretReport> reports;
    for (const auto& other : other_reports_) {
        reports.push_back(other.names);
    }
    const auto choice = auth::choose_minting_secret(ring_, reports);
    if (choice.secret == nullptr) {
        return;  // no secret at all: the config requires one, so only before the first ring
    }
    std::vector<std::string> waiting_for;
    for (const auto index : choice.waiting_for) {
        waiting_for.push_back(other_reports_[index].node);
    }
    const bool changed = choice.secret->name != minting_name_ || waiting_for != minting_waits_for_;
    minting_secret_ = choice.secret->value;
    minting_name_ = choice.secret->name;
    minting_waits_for_ = std::move(waiting_for);
    minting_waits_ = !minting_waits_for_.empty() || choice.none_held_by_all;
    if (!changed) {
        return;
    }
    if (choice.none_held_by_all) {
        spdlog::warn("no secret is held by every live node: minting with {}, which some refuse",
                     minting_name_);
    } else if (!minting_waits_for_.empty()) {
        spdlog::info("minting with {}: {} waits for {} node(s) to hold it (first: {})",
                     minting_name_, ring_.newest()->name, minting_waits_for_.size(),
                     minting_waits_for_.front());
    } else {
        spdlog::info("minting with {}", minting_name_);
    }
}

}  // namespace hearth::relay
