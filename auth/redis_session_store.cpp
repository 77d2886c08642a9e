#include "auth/redis_session_store.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace hearth::auth {

namespace {

constexpr const char* revocation_channel = "hearth:revocations";
constexpr std::chrono::milliseconds max_backoff{10000};

std::string session_key(std::string_view session) {
    return "hearth:session:" + std::string(session);
}

// The checks of DESIGN.md flow 3, and for an Allocate the cap, counted over every node's
// unexpired count, in one atomic step.
constexpr const char* judge_script = R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'not_before', 'not_after', 'allocation_cap')
if not f[1] then return 'unknown_session' end
if f[1] ~= 'active' then return 'not_active' end
local now = tonumber(ARGV[2])
local not_before = tonumber(f[2]) or 0
local not_after = tonumber(f[3]) or 0
if (not_before ~= 0 and now < not_before) or (not_after ~= 0 and now > not_after) then
  return 'outside_window'
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'not_participant' end
if ARGV[5] ~= '1' then return 'allowed' end
local cap = tonumber(f[4]) or 4
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local count = redis.call('GET', KEYS[1] .. ':allocations:' .. node)
  if count then total = total + tonumber(count) else redis.call('SREM', KEYS[3], node) end
end
if total >= cap then return 'cap_reached' end
local mine = KEYS[1] .. ':allocations:' .. ARGV[3]
redis.call('INCR', mine)
redis.call('EXPIRE', mine, tonumber(ARGV[4]))
redis.call('SADD', KEYS[3], ARGV[3])
return 'allowed'
)lua";

constexpr const char* release_script = R"lua(
local left = redis.call('DECR', KEYS[1])
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
)lua";

constexpr const char* revoke_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '' then
  redis.call('HSET', KEYS[1], 'state', 'ended')
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. ARGV[1])
return 1
)lua";

constexpr const char* nodes_script = R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', 'hearth:nodes')) do
  local fields = redis.call('HMGET', 'hearth:node:' .. id, 'turn', 'admin', 'draining',
                            'allocations', 'seen')
  if fields[1] then
    table.insert(out, {id, fields[1], fields[2] or '', fields[3] or '0', fields[4] or '0',
                       fields[5] or '0'})
  else
    redis.call('SREM', 'hearth:nodes', id)
  end
end
return out
)lua";

constexpr const char* list_script = R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', 'hearth:sessions')) do
  local key = 'hearth:session:' .. id
  local f = redis.call('HMGET', key, 'state', 'not_before', 'not_after', 'allocation_cap')
  table.insert(out, {id, f[1] or 'unknown', f[2] or '0', f[3] or '0', f[4] or '4',
                     redis.call('SMEMBERS', key .. ':participants')})
end
return out
)lua";

SessionVerdict verdict_of(std::string_view text) {
    if (text == "allowed")
        return SessionVerdict::allowed;
    if (text == "unknown_session")
        return SessionVerdict::unknown_session;
    if (text == "not_active")
        return SessionVerdict::not_active;
    if (text == "outside_window")
        return SessionVerdict::outside_window;
    if (text == "not_participant")
        return SessionVerdict::not_participant;
    if (text == "cap_reached")
        return SessionVerdict::cap_reached;
    return SessionVerdict::store_unavailable;
}

SessionState state_of(std::string_view text) {
    if (text == "active")
        return SessionState::active;
    if (text == "scheduled")
        return SessionState::scheduled;
    return SessionState::ended;
}

}  // namespace

RedisSessionStore::RedisSessionStore(event_base* base, RedisSettings settings, Revoked on_revoked)
    : base_(base),
      settings_(std::move(settings)),
      on_revoked_(std::move(on_revoked)),
      tasks_(base) {
    reconnect_timer_ = evtimer_new(
        base_,
        [](evutil_socket_t, short, void* self) {
            static_cast<RedisSessionStore*>(self)->connect();
        },
        this);
    heartbeat_timer_ = event_new(
        base_, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* self) {
            static_cast<RedisSessionStore*>(self)->heartbeat();
        },
        this);
}

RedisSessionStore::~RedisSessionStore() {
    event_free(reconnect_timer_);
    event_free(heartbeat_timer_);
    for (auto* context : {commands_, subscriber_}) {
        if (context != nullptr) {
            context->data = nullptr;
            redisAsyncFree(context);
        }
    }
}

void RedisSessionStore::start() {
    connect();
    const auto every = std::max<std::int64_t>(1, settings_.count_ttl.count() / 3);
    const timeval interval{static_cast<time_t>(every), 0};
    event_add(heartbeat_timer_, &interval);
}

void RedisSessionStore::connect() {
    for (auto** slot : {&commands_, &subscriber_}) {
        if (*slot != nullptr) {
            continue;
        }
        redisAsyncContext* context = redisAsyncConnect(settings_.host.c_str(), settings_.port);
        if (context == nullptr || context->err != 0) {
            spdlog::warn("Redis {}:{}: {}", settings_.host, settings_.port,
                         context != nullptr ? context->errstr : "cannot allocate a context");
            if (context != nullptr) {
                redisAsyncFree(context);
            }
            schedule_reconnect();
            return;
        }
        context->data = this;
        redisLibeventAttach(context, base_);
        redisAsyncSetConnectCallback(context, &RedisSessionStore::on_connect);
        redisAsyncSetDisconnectCallback(context, &RedisSessionStore::on_disconnect);
        *slot = context;
        if (!settings_.password.empty()) {
            redisAsyncCommand(context, nullptr, nullptr, "AUTH %s", settings_.password.c_str());
        }
        if (slot == &subscriber_) {
            redisAsyncCommand(context, &RedisSessionStore::on_revocation, this, "SUBSCRIBE %s",
                              revocation_channel);
        }
    }
}

void RedisSessionStore::schedule_reconnect() {
    const timeval delay{static_cast<time_t>(backoff_.count() / 1000),
                        static_cast<suseconds_t>((backoff_.count() % 1000) * 1000)};
    evtimer_add(reconnect_timer_, &delay);
    backoff_ = std::min(backoff_ * 2, max_backoff);
}

void RedisSessionStore::on_connect(const redisAsyncContext* context, int status) {
    auto* self = static_cast<RedisSessionStore*>(context->data);
    if (self == nullptr) {
        return;
    }
    if (status != REDIS_OK) {
        // hiredis frees the context after a failed connect.
        (context == self->commands_ ? self->commands_ : self->subscriber_) = nullptr;
        self->connected_.store(false, std::memory_order_relaxed);
        self->schedule_reconnect();
        return;
    }
    if (context == self->commands_) {
        self->connected_.store(true, std::memory_order_relaxed);
        self->backoff_ = std::chrono::milliseconds(500);
        spdlog::info("Redis {}:{} connected", self->settings_.host, self->settings_.port);
        self->heartbeat();  // restore this node's counts at once
        if (self->on_connected_) {
            self->on_connected_();
        }
    }
}

void RedisSessionStore::on_disconnect(const redisAsyncContext* context, int) {
    auto* self = static_cast<RedisSessionStore*>(context->data);
    if (self == nullptr) {
        return;
    }
    if (context == self->commands_) {
        self->commands_ = nullptr;
        if (self->connected_.exchange(false)) {
            self->outages_.fetch_add(1, std::memory_order_relaxed);
            spdlog::error(
                "Redis {}:{} lost: relaying goes on, sessions seen in the last {} s "
                "are honoured, unknown ones refused; reconnecting",
                self->settings_.host, self->settings_.port, self->settings_.grace.count());
        }
    } else {
        self->subscriber_ = nullptr;
    }
    self->schedule_reconnect();
}

void RedisSessionStore::command(std::vector<std::string> arguments, Reply on_reply) {
    if (commands_ == nullptr || !connected()) {
        on_reply(nullptr);
        return;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& argument : arguments) {
        argv.push_back(argument.data());
        lengths.push_back(argument.size());
    }
    auto* callback = new Reply(std::move(on_reply));
    if (redisAsyncCommandArgv(commands_, &RedisSessionStore::on_reply, callback,
                              static_cast<int>(argv.size()), argv.data(),
                              lengths.data()) != REDIS_OK) {
        std::unique_ptr<Reply> failed(callback);
        (*failed)(nullptr);
    }
}

void RedisSessionStore::on_reply(redisAsyncContext* context, void* reply, void* privdata) {
    std::unique_ptr<Reply> callback(static_cast<Reply*>(privdata));
    if (context->data == nullptr) {
        return;  // the store is being destroyed: whoever asked may be gone already
    }
    (*callback)(static_cast<redisReply*>(reply));  // null when the connection went away
}

void RedisSessionStore::on_revocation(redisAsyncContext* context, void* reply, void*) {
    auto* self = static_cast<RedisSessionStore*>(context->data);
    const auto* message = static_cast<redisReply*>(reply);
    if (self == nullptr || message == nullptr || message->type != REDIS_REPLY_ARRAY ||
        message->elements != 3 || message->element[2]->type != REDIS_REPLY_STRING ||
        std::string_view(message->element[0]->str) != "message") {
        return;
    }
    const std::string payload(message->element[2]->str, message->element[2]->len);
    const auto space = payload.find(' ');
    const std::string session = payload.substr(0, space);
    const std::string user = space == std::string::npos ? "" : payload.substr(space + 1);
    spdlog::info("revocation received: session {}{}", session, user.empty() ? "" : " user " + user);
    std::erase_if(self->last_allowed_, [&](const auto& entry) {
        return entry.first.starts_with(session + "\n") &&
               (user.empty() || entry.first == session + "\n" + user);
    });
    self->on_revoked_(session, user);
}

void RedisSessionStore::judge(bool reserve, std::string session, std::string user,
                              std::int64_t now_unix, VerdictCallback done) {
    const std::string key = session_key(session);
    command({"EVAL", judge_script, "3", key, key + ":participants", key + ":nodes", user,
             std::to_string(now_unix), settings_.node_id,
             std::to_string(settings_.count_ttl.count()), reserve ? "1" : "0"},
            [this, reserve, session, user, done](redisReply* reply) {
                const std::string seen = session + "\n" + user;
                auto verdict = SessionVerdict::store_unavailable;
                if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
                    verdict = verdict_of(std::string_view(reply->str, reply->len));
                } else {
                    // Fail closed, but keep serving a session seen active within the grace.
                    const auto found = last_allowed_.find(seen);
                    if (found != last_allowed_.end() &&
                        std::chrono::steady_clock::now() - found->second < settings_.grace) {
                        verdict = SessionVerdict::allowed;
                    }
                }
                if (verdict == SessionVerdict::allowed) {
                    if (reply != nullptr) {
                        last_allowed_[seen] = std::chrono::steady_clock::now();
                    }
                    if (reserve) {
                        ++local_allocations_[session];
                    }
                }
                done(verdict);
            });
}

void RedisSessionStore::reserve_allocation(std::string_view session_id, std::string_view user_id,
                                           std::int64_t now_unix, VerdictCallback done) {
    if (closing_.load()) {
        done(SessionVerdict::store_unavailable);
        return;
    }
    tasks_.post([this, session = std::string(session_id), user = std::string(user_id), now_unix,
                 done = std::move(done)]() mutable {
        judge(true, std::move(session), std::move(user), now_unix, std::move(done));
    });
}

void RedisSessionStore::check_session(std::string_view session_id, std::string_view user_id,
                                      std::int64_t now_unix, VerdictCallback done) {
    if (closing_.load()) {
        done(SessionVerdict::store_unavailable);
        return;
    }
    tasks_.post([this, session = std::string(session_id), user = std::string(user_id), now_unix,
                 done = std::move(done)]() mutable {
        judge(false, std::move(session), std::move(user), now_unix, std::move(done));
    });
}

void RedisSessionStore::release_allocation(std::string_view session_id, std::string_view) {
    if (closing_.load()) {
        return;
    }
    tasks_.post([this, session = std::string(session_id)] {
        auto found = local_allocations_.find(session);
        if (found == local_allocations_.end()) {
            return;
        }
        if (--found->second == 0) {
            local_allocations_.erase(found);
        }
        command({"EVAL", release_script, "1",
                 session_key(session) + ":allocations:" + settings_.node_id},
                [](redisReply*) {});
    });
}

// Every third of the count lifetime: refresh this node's counts (so they expire only if
// the node dies), and look again at the state of every session it serves, so a node that
// missed a revocation still tears the session down.
void RedisSessionStore::announce() {
    if (!node_info_) {
        return;
    }
    const NodeInfo info = node_info_();
    const std::string key = "hearth:node:" + settings_.node_id;
    command(
        {"HSET", key, "turn", info.turn, "admin", info.admin, "draining", info.draining ? "1" : "0",
         "allocations", std::to_string(info.allocations), "seen", std::to_string(info.seen_unix)},
        [](redisReply*) {});
    command({"EXPIRE", key, std::to_string(settings_.count_ttl.count())}, [](redisReply*) {});
    command({"SADD", "hearth:nodes", settings_.node_id}, [](redisReply*) {});
}

void RedisSessionStore::list_nodes(std::function<void(std::vector<NodeInfo>)> done) {
    command({"EVAL", nodes_script, "0"}, [done](redisReply* reply) {
        std::vector<NodeInfo> nodes;
        if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY) {
            for (std::size_t i = 0; i < reply->elements; ++i) {
                const redisReply* row = reply->element[i];
                if (row->type != REDIS_REPLY_ARRAY || row->elements != 6) {
                    continue;
                }
                NodeInfo node;
                node.id = row->element[0]->str;
                node.turn = row->element[1]->str;
                node.admin = row->element[2]->str;
                node.draining = std::string_view(row->element[3]->str) == "1";
                node.allocations = std::strtoull(row->element[4]->str, nullptr, 10);
                node.seen_unix = std::atoll(row->element[5]->str);
                nodes.push_back(std::move(node));
            }
        }
        done(std::move(nodes));
    });
}

void RedisSessionStore::heartbeat() {
    announce();
    for (const auto& [session, count] : local_allocations_) {
        const std::string key = session_key(session);
        command({"SET", key + ":allocations:" + settings_.node_id, std::to_string(count), "EX",
                 std::to_string(settings_.count_ttl.count())},
                [](redisReply*) {});
        command({"SADD", key + ":nodes", settings_.node_id}, [](redisReply*) {});
        command({"HGET", key, "state"}, [this, session](redisReply* reply) {
            if (reply != nullptr && (reply->type == REDIS_REPLY_NIL ||
                                     (reply->type == REDIS_REPLY_STRING &&
                                      std::string_view(reply->str, reply->len) != "active"))) {
                spdlog::info("session {} is no longer active in Redis: tearing it down", session);
                on_revoked_(session, "");
            }
        });
    }
}

void RedisSessionStore::revoke(const std::string& session, const std::string& user,
                               std::function<void(bool)> done) {
    const std::string key = session_key(session);
    command(
        {"EVAL", revoke_script, "2", key, key + ":participants", user, revocation_channel, session},
        [done](redisReply* reply) {
            done(reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
        });
}

void RedisSessionStore::load_secrets(std::function<void(std::vector<NamedSecret>)> done) {
    command({"HGETALL", "hearth:secrets"}, [done](redisReply* reply) {
        std::vector<NamedSecret> secrets;
        if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY) {
            for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
                secrets.push_back(
                    {std::string(reply->element[i]->str, reply->element[i]->len),
                     std::string(reply->element[i + 1]->str, reply->element[i + 1]->len)});
            }
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

void RedisSessionStore::put_secret(const std::string& name, const std::string& value,
                                   std::function<void(bool)> done) {
    command({"HSET", "hearth:secrets", name, value}, [done](redisReply* reply) {
        done(reply != nullptr && reply->type == REDIS_REPLY_INTEGER);
    });
}

void RedisSessionStore::remove_secret(const std::string& name, std::function<void(bool)> done) {
    command({"HDEL", "hearth:secrets", name}, [done](redisReply* reply) {
        done(reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
    });
}

void RedisSessionStore::list(std::function<void(std::vector<Session>)> done) {
    command({"EVAL", list_script, "0"}, [done](redisReply* reply) {
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
