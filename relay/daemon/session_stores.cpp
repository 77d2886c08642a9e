#include "relay/daemon/session_stores.h"

#include <unistd.h>

namespace hearth::relay {

namespace {

// session_store.redis.node_id, or this host's name and the process id.
std::string node_id_of(const config::RedisSection& redis) {
    if (!redis.node_id.empty()) {
        return redis.node_id;
    }
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

SessionStores::SessionStores(event_base* main_base, const config::Config& config, Revoked revoked)
    : node_id_(node_id_of(config.session_store.redis)) {
    embedded_.replace_sessions(config.session_store.sessions);
    if (config.session_store.kind != config::StoreKind::redis) {
        return;
    }
    const auto& redis = config.session_store.redis;
    auth::RedisSettings settings;
    settings.connection.server = {redis.host, redis.port};
    settings.connection.password = redis.password;
    for (const auto& sentinel : redis.sentinels) {
        settings.connection.sentinels.push_back({sentinel.ip.to_string(), sentinel.port});
    }
    settings.connection.master_name = redis.master_name;
    settings.connection.command_timeout = std::chrono::milliseconds(redis.command_timeout_ms);
    settings.grace = redis.grace;
    settings.node_id = node_id_;
    settings.record_ttl = config.audit.session_stream_ttl;
    redis_ = std::make_unique<auth::RedisSessionStore>(main_base, settings, std::move(revoked));
}

auth::SessionStore& SessionStores::active() {
    if (redis_) {
        return *redis_;
    }
    return embedded_;
}

auth::SessionRecordStore& SessionStores::records() {
    if (redis_) {
        return *redis_;
    }
    return embedded_records_;
}

DaemonControl::Stores SessionStores::handles() {
    if (redis_) {
        return {nullptr, redis_.get(), redis_.get()};
    }
    return {&embedded_, nullptr, &embedded_records_};
}

void SessionStores::start(DaemonControl& control) {
    if (!redis_) {
        return;
    }
    // Connected, or again after an outage (a message on hearth:secrets:changed may have
    // been missed meanwhile): the secrets are read again.
    redis_->on_connected([&control] { control.refresh_redis_secrets(); });
    control.watch_secrets();
    redis_->start();
}

void SessionStores::close() {
    if (redis_) {
        redis_->close();
    }
}

}  // namespace hearth::relay
