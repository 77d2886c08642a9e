#include "auth/redis_session_store.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth/redis_scripts.h"

namespace hearth::auth {

namespace {

constexpr const char* revocation_channel = "hearth:revocations";

// The judge script's answers.
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
    if (text == "allowed_by_replacement")
        return SessionVerdict::allowed_by_replacement;
    return SessionVerdict::store_unavailable;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

RedisSessionStore::RedisSessionStore(event_base* base, RedisSettings settings, Revoked on_revoked)
    : base_(base),
      settings_(std::move(settings)),
      on_revoked_(std::move(on_revoked)),
      connection_(
          base, settings_.connection,
          RedisConnection::Events{[this] { reached(); },
                                  {},
                                  [this](const std::string& channel, const std::string& payload) {
                                      message(channel, payload);
                                  }}),
      tasks_(base) {
    heartbeat_timer_ = event_new(
        base_, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* self) {
            static_cast<RedisSessionStore*>(self)->heartbeat();
        },
        this);
}

RedisSessionStore::~RedisSessionStore() {
    event_free(heartbeat_timer_);
}

void RedisSessionStore::start() {
    connection_.subscribe(revocation_channel);
    connection_.subscribe(secrets_channel);
    connection_.start();
    const auto every = std::max<std::int64_t>(1, settings_.count_ttl.count() / 3);
    const timeval interval{static_cast<time_t>(every), 0};
    event_add(heartbeat_timer_, &interval);
}

void RedisSessionStore::reserve_allocation(std::string_view session_id, std::string_view user_id,
                                           std::int64_t now_unix, PastTheCap past_the_cap,
                                           VerdictCallback done) {
    if (closing_.load()) {
        done(SessionVerdict::store_unavailable);
        return;
    }
    const Ask ask =
        past_the_cap == PastTheCap::replace_idle ? Ask::reserve_or_replace : Ask::reserve;
    tasks_.post([this, ask, session = std::string(session_id), user = std::string(user_id),
                 now_unix, done = std::move(done)]() mutable {
        judge(ask, std::move(session), std::move(user), now_unix, std::move(done));
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
        judge(Ask::check, std::move(session), std::move(user), now_unix, std::move(done));
    });
}

void RedisSessionStore::judge(Ask ask, std::string session, std::string user, std::int64_t now_unix,
                              VerdictCallback done) {
    const std::string key = session_key(session);
    const bool reserve = ask != Ask::check;
    command({"EVAL", redis_scripts::judge, "4", key, key + ":participants", key + ":nodes",
             counted_sessions_key(), user, std::to_string(now_unix), settings_.node_id,
             std::to_string(settings_.count_ttl.count()), std::to_string(static_cast<int>(ask)),
             session},
            [this, reserve, session, user, done](redisReply* reply) {
                const redisReply* head = reply;
                if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
                    head = reply->element[0];  // 'allowed', then the participants
                }
                const bool answered = head != nullptr && head->type == REDIS_REPLY_STRING;
                const auto verdict = answered ? verdict_of(std::string_view(head->str, head->len))
                                              : verdict_without_store(session, user);
                if (answered) {
                    learn(session, user, verdict, reply);
                }
                // A replacement counts nothing new: the slot stays the replaced one's,
                // which the node deletes without giving it back.
                if (reserve && verdict == SessionVerdict::allowed) {
                    ++served_[session][user];  // counted in Redis by the next heartbeat too
                }
                done(verdict);
            });
}

// Redis cannot answer: a session and user this node knew live within the grace are
// honoured; anything else is refused (fail closed).
SessionVerdict RedisSessionStore::verdict_without_store(const std::string& session,
                                                        const std::string& user) {
    const auto known = known_live_.find(session);
    if (known != known_live_.end() && known->second.participants.contains(user) &&
        std::chrono::steady_clock::now() - known->second.seen < settings_.grace) {
        return SessionVerdict::allowed;
    }
    return SessionVerdict::store_unavailable;
}

// What an answer of Redis teaches about a session, for when it cannot answer.
void RedisSessionStore::learn(const std::string& session, const std::string& user,
                              SessionVerdict verdict, const redisReply* reply) {
    switch (verdict) {
        case SessionVerdict::allowed:
        case SessionVerdict::allowed_by_replacement:
        case SessionVerdict::cap_reached: {
            auto& known = known_live_[session];
            known.participants.insert(user);
            if (reply->type == REDIS_REPLY_ARRAY) {  // the whole list of participants
                known.participants.clear();
                for (std::size_t i = 1; i < reply->elements; ++i) {
                    known.participants.emplace(reply->element[i]->str, reply->element[i]->len);
                }
            }
            known.seen = std::chrono::steady_clock::now();
            return;
        }
        case SessionVerdict::not_participant:
            if (const auto known = known_live_.find(session); known != known_live_.end()) {
                known->second.participants.erase(user);
            }
            return;
        case SessionVerdict::unknown_session:
        case SessionVerdict::not_active:
        case SessionVerdict::outside_window:
            known_live_.erase(session);
            return;
        case SessionVerdict::store_unavailable:
            return;
    }
}

void RedisSessionStore::release_allocation(std::string_view session_id, std::string_view user_id) {
    if (closing_.load()) {
        return;
    }
    tasks_.post([this, session = std::string(session_id), user = std::string(user_id)] {
        const auto found = served_.find(session);
        if (found == served_.end()) {
            return;
        }
        auto& users = found->second;
        if (const auto count = users.find(user); count != users.end() && --count->second == 0) {
            users.erase(count);
        }
        if (users.empty()) {
            served_.erase(found);
        }
        command({"EVAL", redis_scripts::release, "1",
                 session_key(session) + ":allocations:" + settings_.node_id},
                [](redisReply*) {});
    });
}

// Every third of the count lifetime, and at once when Redis is back: register this node,
// refresh its counts (so they expire only if the node dies), and read again every session
// it serves: one ended, or a participant removed, while this node missed the publish is
// torn down here.
void RedisSessionStore::heartbeat() {
    announce();
    for (const auto& [session, users] : served_) {
        std::uint32_t count = 0;
        for (const auto& [user, allocations] : users) {
            count += allocations;
        }
        const std::string key = session_key(session);
        command({"SET", key + ":allocations:" + settings_.node_id, std::to_string(count), "EX",
                 std::to_string(settings_.count_ttl.count())},
                [](redisReply*) {});
        command({"SADD", key + ":nodes", settings_.node_id}, [](redisReply*) {});
        command({"SADD", counted_sessions_key(), session}, [](redisReply*) {});
        check_served(session);
    }
    if (!served_.empty()) {
        command({"EXPIRE", counted_sessions_key(), std::to_string(settings_.count_ttl.count())},
                [](redisReply*) {});
    }
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(known_live_, [&](const auto& entry) {
        return !served_.contains(entry.first) && now - entry.second.seen >= settings_.grace;
    });
}

// Redis answers (at start, or back after an outage): the counts of an earlier run of this
// node go, this node's are written again, and every session it serves is read again, so
// a revocation published meanwhile lands now.
void RedisSessionStore::reached() {
    if (!connected_once_) {
        connected_once_ = true;
        forget_counts_of_an_earlier_run();
    }
    heartbeat();
    if (on_connected_) {
        on_connected_();
    }
}

void RedisSessionStore::forget_counts_of_an_earlier_run() {
    command({"EVAL", redis_scripts::forget_counts, "1", counted_sessions_key(), settings_.node_id},
            [](redisReply*) {});
}

std::string RedisSessionStore::counted_sessions_key() const {
    return "hearth:node:" + settings_.node_id + ":sessions";
}

void RedisSessionStore::check_served(const std::string& session) {
    const std::string key = session_key(session);
    command({"EVAL", redis_scripts::served, "2", key, key + ":participants",
             std::to_string(unix_now())},
            [this, session](redisReply* reply) {
                if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
                    return;  // no answer: what is known stays known, within its grace
                }
                if (std::string_view(reply->element[0]->str) != "active") {
                    spdlog::info("session {} is no longer active in Redis: tearing it down",
                                 session);
                    revoked(session, "");
                    return;
                }
                KnownLive& known = known_live_[session];
                known.seen = std::chrono::steady_clock::now();
                known.participants.clear();
                for (std::size_t i = 1; i < reply->elements; ++i) {
                    known.participants.emplace(reply->element[i]->str, reply->element[i]->len);
                }
                std::vector<std::string> gone;
                if (const auto served = served_.find(session); served != served_.end()) {
                    for (const auto& [user, allocations] : served->second) {
                        if (!known.participants.contains(user)) {
                            gone.push_back(user);
                        }
                    }
                }
                for (const auto& user : gone) {
                    spdlog::info(
                        "user {} is no longer a participant of session {} in Redis: "
                        "tearing its allocations down",
                        user, session);
                    revoked(session, user);
                }
            });
}

void RedisSessionStore::message(const std::string& channel, const std::string& payload) {
    if (channel == secrets_channel) {
        if (payload.starts_with("held ")) {
            spdlog::debug("secrets: {}", payload);
        } else {
            spdlog::info("secrets changed in Redis ({}): reading them again", payload);
        }
        if (on_secrets_changed_) {
            on_secrets_changed_();
        }
        return;
    }
    revocation(payload);
}

void RedisSessionStore::revocation(const std::string& payload) {
    const auto space = payload.find(' ');
    const std::string session = payload.substr(0, space);
    const std::string user = space == std::string::npos ? "" : payload.substr(space + 1);
    spdlog::info("revocation received: session {}{}", session, user.empty() ? "" : " user " + user);
    revoked(session, user);
}

// Forgets that the session (or the user in it) was live, then has the node tear its
// allocations down.
void RedisSessionStore::revoked(const std::string& session, const std::string& user) {
    if (user.empty()) {
        known_live_.erase(session);
    } else if (const auto known = known_live_.find(session); known != known_live_.end()) {
        known->second.participants.erase(user);
    }
    on_revoked_(session, user);
}

void RedisSessionStore::revoke(const std::string& session, const std::string& user,
                               std::function<void(bool)> done) {
    const std::string key = session_key(session);
    command({"EVAL", redis_scripts::revoke, "2", key, key + ":participants", user,
             revocation_channel, session},
            [done](redisReply* reply) {
                done(reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1);
            });
}

}  // namespace hearth::auth
