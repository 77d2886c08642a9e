// What hearthd keeps in Redis beside sessions (README "Redis schema"): the secrets held
// there, this node's registration and the live nodes, call quality for the backend, and
// the list of sessions for the admin API.

#include <hiredis/hiredis.h>

#include <algorithm>

#include "auth/redis_scripts.h"
#include "auth/redis_session_store.h"

namespace hearth::auth {

namespace {

SessionState state_of(std::string_view text) {
    if (text == "active")
        return SessionState::active;
    if (text == "scheduled")
        return SessionState::scheduled;
    return SessionState::ended;
}

// A row of the nodes script: id, turn, admin, draining, allocations, seen, secrets.
NodeInfo node_of(const redisReply* row) {
    NodeInfo node;
    node.id = row->element[0]->str;
    node.turn = row->element[1]->str;
    node.admin = row->element[2]->str;
    node.draining = std::string_view(row->element[3]->str) == "1";
    node.allocations = std::strtoull(row->element[4]->str, nullptr, 10);
    node.seen_unix = std::atoll(row->element[5]->str);
    node.secrets.assign(row->element[6]->str, row->element[6]->len);
    return node;
}

// The answer of the put_secret and remove_secret scripts.
SecretChange secret_change_of(const redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
        return SecretChange::no_answer;
    }
    return reply->integer == 1 ? SecretChange::done : SecretChange::conflict;
}

}  // namespace

void RedisSessionStore::announce() {
    if (!node_info_) {
        return;
    }
    const NodeInfo info = node_info_();
    const std::string key = "hearth:node:" + settings_.node_id;
    command({"HSET", key, "turn", info.turn, "admin", info.admin, "draining",
             info.draining ? "1" : "0", "allocations", std::to_string(info.allocations), "seen",
             std::to_string(info.seen_unix), "secrets", info.secrets},
            [](redisReply*) {});
    command({"EXPIRE", key, std::to_string(settings_.count_ttl.count())}, [](redisReply*) {});
    command({"SADD", "hearth:nodes", settings_.node_id}, [](redisReply*) {});
}

void RedisSessionStore::announce_secrets_held() {
    announce();
    // After the registration on the same connection, so whoever hears it reads it.
    command({"PUBLISH", secrets_channel, "held " + settings_.node_id}, [](redisReply*) {});
}

void RedisSessionStore::list_nodes(std::function<void(std::optional<std::vector<NodeInfo>>)> done) {
    command({"EVAL", redis_scripts::nodes, "0"}, [done](redisReply* reply) {
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
            done(std::nullopt);
            return;
        }
        std::vector<NodeInfo> nodes;
        for (std::size_t i = 0; i < reply->elements; ++i) {
            const redisReply* row = reply->element[i];
            if (row->type == REDIS_REPLY_ARRAY && row->elements == 7) {
                nodes.push_back(node_of(row));
            }
        }
        done(std::move(nodes));
    });
}

void RedisSessionStore::load_secrets(
    std::function<void(std::optional<std::vector<NamedSecret>>)> done) {
    command({"HGETALL", secrets_key}, [done](redisReply* reply) {
        if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
            done(std::nullopt);
            return;
        }
        std::vector<NamedSecret> secrets;
        for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
            secrets.push_back(
                {std::string(reply->element[i]->str, reply->element[i]->len),
                 std::string(reply->element[i + 1]->str, reply->element[i + 1]->len)});
        }
        std::sort(secrets.begin(), secrets.end(),
                  [](const NamedSecret& a, const NamedSecret& b) { return a.name < b.name; });
        done(std::move(secrets));
    });
}

void RedisSessionStore::write_quality(const std::string& session, const std::string& field,
                                      const std::string& json, std::chrono::seconds ttl) {
    const std::string key = session_key(session) + ":quality";
    command({"HSET", key, field, json}, [](redisReply*) {});
    command({"EXPIRE", key, std::to_string(ttl.count())}, [](redisReply*) {});
}

void RedisSessionStore::append_audit(std::string session, std::string line,
                                     const AuditStreams& streams, std::function<void(bool)> done) {
    if (closing_.load()) {
        done(false);
        return;
    }
    tasks_.post([this, session = std::move(session), line = std::move(line), streams,
                 done = std::move(done)] {
        // MAXLEN ~ lets Redis trim whole macro nodes: cheap, and about the length asked.
        if (!session.empty()) {
            const std::string key = session_key(session) + ":audit";
            command({"XADD", key, "MAXLEN", "~", std::to_string(streams.session_maxlen), "*",
                     "json", line},
                    [](redisReply*) {});
            command({"EXPIRE", key, std::to_string(streams.session_ttl.count())},
                    [](redisReply*) {});
        }
        command({"XADD", "hearth:audit", "MAXLEN", "~", std::to_string(streams.maxlen), "*", "json",
                 line},
                [done](redisReply* reply) {
                    done(reply != nullptr && reply->type == REDIS_REPLY_STRING);
                });
    });
}

namespace {

FlatRecord fields_of(const redisReply* pairs) {
    FlatRecord fields;
    if (pairs == nullptr || pairs->type != REDIS_REPLY_ARRAY) {
        return fields;
    }
    for (std::size_t i = 0; i + 1 < pairs->elements; i += 2) {
        const redisReply* name = pairs->element[i];
        const redisReply* value = pairs->element[i + 1];
        if (name->type == REDIS_REPLY_STRING && value->type == REDIS_REPLY_STRING) {
            fields[std::string(name->str, name->len)] =
                std::strtoll(std::string(value->str, value->len).c_str(), nullptr, 10);
        }
    }
    return fields;
}

}  // namespace

void RedisSessionStore::update(std::string session, std::vector<RecordUpdate> updates,
                               std::int64_t now_unix_ms) {
    if (closing_.load()) {
        record_updates_lost_.fetch_add(1);
        return;
    }
    tasks_.post([this, session = std::move(session), updates = std::move(updates), now_unix_ms] {
        const std::int64_t oldest_kept = now_unix_ms - ended_sessions_window.count();
        std::vector<std::string> arguments{"EVAL",
                                           redis_scripts::record_update,
                                           "2",
                                           session_key(session) + ":record",
                                           "hearth:sessions:ended",
                                           std::to_string(settings_.record_ttl.count()),
                                           session,
                                           std::to_string(oldest_kept)};
        for (const auto& update : updates) {
            arguments.insert(arguments.end(),
                             {to_string(update.merge), update.field, std::to_string(update.value),
                              std::to_string(update.at_unix_ms)});
        }
        command(std::move(arguments), [this](redisReply* reply) {
            if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) {
                record_updates_lost_.fetch_add(1);
            }
        });
    });
}

void RedisSessionStore::read(std::string session, std::function<void(FlatRecord)> done) {
    command({"HGETALL", session_key(session) + ":record"},
            [done = std::move(done)](redisReply* reply) { done(fields_of(reply)); });
}

void RedisSessionStore::ended(std::int64_t now_unix_ms,
                              std::function<void(std::vector<EndedRecord>)> done) {
    constexpr int most_listed = 1000;
    const std::int64_t since = now_unix_ms - ended_sessions_window.count();
    command(
        {"EVAL", redis_scripts::ended_records, "1", "hearth:sessions:ended", std::to_string(since),
         std::to_string(most_listed)},
        [done = std::move(done)](redisReply* reply) {
            std::vector<EndedRecord> ended;
            if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY) {
                for (std::size_t i = 0; i < reply->elements; ++i) {
                    const redisReply* row = reply->element[i];
                    if (row->type == REDIS_REPLY_ARRAY && row->elements == 2 &&
                        row->element[0]->type == REDIS_REPLY_STRING) {
                        ended.push_back({std::string(row->element[0]->str, row->element[0]->len),
                                         fields_of(row->element[1])});
                    }
                }
            }
            done(std::move(ended));
        });
}

void RedisSessionStore::put_secret(const std::string& name, const std::string& value,
                                   std::function<void(SecretChange)> done) {
    command({"EVAL", redis_scripts::put_secret, "1", secrets_key, name, value, secrets_channel},
            [done](redisReply* reply) { done(secret_change_of(reply)); });
}

void RedisSessionStore::remove_secret(const std::string& name,
                                      std::function<void(SecretChange)> done) {
    command({"EVAL", redis_scripts::remove_secret, "1", secrets_key, name, secrets_channel},
            [done](redisReply* reply) { done(secret_change_of(reply)); });
}

void RedisSessionStore::list(std::function<void(std::vector<Session>)> done) {
    command({"EVAL", redis_scripts::list, "0"}, [done](redisReply* reply) {
        std::vector<Session> sessions;
        if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY) {
            for (std::size_t i = 0; i < reply->elements; ++i) {
                const redisReply* row = reply->element[i];
                if (row->type != REDIS_REPLY_ARRAY || row->elements != 6) {
                    continue;
                }
                Session session;
                session.id = row->element[0]->str;
                session.state = state_of(row->element[1]->str);
                session.not_before_unix = std::atoll(row->element[2]->str);
                session.not_after_unix = std::atoll(row->element[3]->str);
                session.allocation_cap =
                    static_cast<std::uint32_t>(std::atol(row->element[4]->str));
                for (std::size_t p = 0; p < row->element[5]->elements; ++p) {
                    session.participants.emplace_back(row->element[5]->element[p]->str);
                }
                sessions.push_back(std::move(session));
            }
        }
        done(std::move(sessions));
    });
}

}  // namespace hearth::auth
