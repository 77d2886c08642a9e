#include "auth/redis_connection.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth/redis_sentinels.h"

namespace hearth::auth {

namespace {

constexpr std::chrono::milliseconds max_backoff{5000};
constexpr std::chrono::milliseconds deadline_check_interval{100};
constexpr std::chrono::seconds idle_ping_interval{1};

using Clock = std::chrono::steady_clock;

std::string to_string(const RedisEndpoint& endpoint) {
    return endpoint.host + ":" + std::to_string(endpoint.port);
}

// Frees a context that is no longer ours: from now on its callbacks see no owner (when
// called from inside one of its callbacks, hiredis frees it once that callback returns).
void forget(redisAsyncContext*& context) {
    if (context != nullptr) {
        redisAsyncContext* doomed = context;
        context = nullptr;
        redisAsyncFree(doomed);
    }
}

}  // namespace

RedisConnection::RedisConnection(event_base* base, RedisConnectionSettings settings, Events events)
    : base_(base), settings_(std::move(settings)), events_(std::move(events)) {
    reconnect_timer_ = evtimer_new(
        base_,
        [](evutil_socket_t, short, void* self) { static_cast<RedisConnection*>(self)->connect(); },
        this);
    deadline_timer_ = event_new(
        base_, -1, EV_PERSIST,
        [](evutil_socket_t, short, void* self) {
            static_cast<RedisConnection*>(self)->check_deadlines();
        },
        this);
    if (!settings_.sentinels.empty()) {
        sentinels_ = std::make_unique<RedisSentinels>(
            base_, settings_.sentinels, settings_.master_name, settings_.command_timeout);
    }
}

RedisConnection::~RedisConnection() {
    closing_ = true;
    event_free(reconnect_timer_);
    event_free(deadline_timer_);
    sentinels_.reset();
    for (redisAsyncContext** context : {&commands_, &subscriber_}) {
        if (*context != nullptr) {
            (*context)->data = nullptr;  // the callbacks of what is waiting are not run
            forget(*context);
        }
    }
}

std::string RedisConnection::master() const {
    return master_.host.empty() ? "" : to_string(master_);
}

void RedisConnection::start() {
    const auto interval =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline_check_interval);
    const timeval every{0, static_cast<suseconds_t>(interval.count())};
    event_add(deadline_timer_, &every);
    connect();
}

// Without sentinels the configured server is the master; with them, they are asked, and
// a failover they announce brings us back here.
void RedisConnection::connect() {
    if (closing_ || commands_ != nullptr) {
        return;
    }
    if (!sentinels_) {
        connect_to(settings_.server);
        return;
    }
    sentinels_->find_master(
        [this](std::optional<RedisEndpoint> master) {
            if (!master) {
                spdlog::warn("Redis Sentinel: no sentinel named a master '{}'; asking again",
                             settings_.master_name);
                schedule_reconnect();
                return;
            }
            connect_to(*master);
        },
        [this](const RedisEndpoint& master) {
            if (master.host != master_.host || master.port != master_.port) {
                spdlog::warn("Redis Sentinel: failover, the master is now {}", to_string(master));
                drop("the master changed");
            }
        });
}

void RedisConnection::connect_to(const RedisEndpoint& master) {
    master_ = master;
    connected_commands_ = false;
    connect_started_ = Clock::now();
    for (redisAsyncContext** slot : {&commands_, &subscriber_}) {
        redisAsyncContext* context = redisAsyncConnect(master.host.c_str(), master.port);
        if (context == nullptr || context->err != 0) {
            spdlog::warn("Redis {}: {}", to_string(master),
                         context != nullptr ? context->errstr : "cannot allocate a context");
            if (context != nullptr) {
                redisAsyncFree(context);
            }
            drop("cannot connect");
            return;
        }
        context->data = this;
        redisEnableKeepAlive(&context->c);  // a peer that vanished is found by the kernel too
        redisLibeventAttach(context, base_);
        redisAsyncSetConnectCallback(context, &RedisConnection::on_connect);
        redisAsyncSetDisconnectCallback(context, &RedisConnection::on_disconnect);
        *slot = context;
    }
    if (!settings_.password.empty()) {
        redisAsyncCommand(subscriber_, nullptr, nullptr, "AUTH %s", settings_.password.c_str());
    }
    for (const auto& channel : channels_) {
        redisAsyncCommand(subscriber_, &RedisConnection::on_message, nullptr, "SUBSCRIBE %s",
                          channel.c_str());
    }
}

void RedisConnection::schedule_reconnect() {
    if (closing_ || evtimer_pending(reconnect_timer_, nullptr) != 0) {
        return;
    }
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(backoff_).count();
    const timeval delay{static_cast<time_t>(micros / 1000000),
                        static_cast<suseconds_t>(micros % 1000000)};
    evtimer_add(reconnect_timer_, &delay);
    backoff_ = std::min(backoff_ * 2, max_backoff);
}

// An outage: both connections go (whatever waits on them is answered with null), and
// they are opened again after the backoff.
void RedisConnection::drop(const char* why) {
    forget(commands_);
    forget(subscriber_);
    waiting_.clear();
    connected_commands_ = false;
    if (up_.exchange(false)) {
        outages_.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("Redis {} lost ({}): relaying goes on, reconnecting", to_string(master_),
                      why);
        if (events_.down) {
            events_.down();
        }
    }
    schedule_reconnect();
}

// Connected: to a master, once the server says it is one (after a failover a sentinel's
// answer may still name a demoted master for a moment).
void RedisConnection::became_up() {
    const auto authenticated = [this](redisReply* reply) {
        if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
            drop(reply == nullptr ? "no answer to AUTH" : "AUTH refused");
            return;
        }
        command({"ROLE"}, [this](redisReply* role) {
            if (role == nullptr || role->type != REDIS_REPLY_ARRAY || role->elements == 0 ||
                std::string_view(role->element[0]->str, role->element[0]->len) != "master") {
                drop("not a master");
                return;
            }
            up_.store(true, std::memory_order_relaxed);
            backoff_ = std::chrono::milliseconds(250);
            spdlog::info("Redis {} connected", to_string(master_));
            if (events_.up) {
                events_.up();
            }
        });
    };
    if (settings_.password.empty()) {
        command({"PING"}, authenticated);
    } else {
        command({"AUTH", settings_.password}, authenticated);
    }
}

void RedisConnection::command(std::vector<std::string> arguments, Reply on_reply) {
    if (commands_ == nullptr || !connected_commands_) {
        ++unanswered_;
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
    if (redisAsyncCommandArgv(commands_, &RedisConnection::on_reply, callback,
                              static_cast<int>(argv.size()), argv.data(),
                              lengths.data()) != REDIS_OK) {
        std::unique_ptr<Reply> failed(callback);
        ++unanswered_;
        (*failed)(nullptr);
        return;
    }
    last_sent_ = Clock::now();
    waiting_.push_back(last_sent_);
}

// No request waits longer than the command timeout: a connection that does not come up,
// or a command that gets no answer, in that time is an outage.
void RedisConnection::check_deadlines() {
    const auto now = Clock::now();
    if (commands_ != nullptr && !connected_commands_ &&
        now - connect_started_ > settings_.command_timeout) {
        drop("no connection within the command timeout");
        return;
    }
    if (!waiting_.empty() && now - waiting_.front() > settings_.command_timeout) {
        timeouts_.fetch_add(1, std::memory_order_relaxed);
        drop("no answer within the command timeout");
        return;
    }
    if (up_.load(std::memory_order_relaxed) && waiting_.empty() &&
        now - last_sent_ >= idle_ping_interval) {
        command({"PING"}, [](redisReply*) {});
    }
}

void RedisConnection::on_connect(const redisAsyncContext* context, int status) {
    auto* self = static_cast<RedisConnection*>(context->data);
    if (self == nullptr || (context != self->commands_ && context != self->subscriber_)) {
        return;
    }
    if (status != REDIS_OK) {
        // hiredis frees a context whose connect failed, once this returns.
        (context == self->commands_ ? self->commands_ : self->subscriber_) = nullptr;
        self->drop("cannot connect");
        return;
    }
    if (context == self->commands_) {
        self->connected_commands_ = true;
        self->became_up();
    }
}

void RedisConnection::on_disconnect(const redisAsyncContext* context, int) {
    auto* self = static_cast<RedisConnection*>(context->data);
    if (self == nullptr || (context != self->commands_ && context != self->subscriber_)) {
        return;  // one we let go of already
    }
    // hiredis frees this context once this returns.
    (context == self->commands_ ? self->commands_ : self->subscriber_) = nullptr;
    self->drop("connection closed");
}

void RedisConnection::on_reply(redisAsyncContext* context, void* reply, void* privdata) {
    std::unique_ptr<Reply> callback(static_cast<Reply*>(privdata));
    auto* self = static_cast<RedisConnection*>(context->data);
    if (self == nullptr) {
        return;  // being destroyed: whoever asked may be gone already
    }
    const auto* answer = static_cast<redisReply*>(reply);
    if (context == self->commands_ && !self->waiting_.empty()) {
        if (answer != nullptr) {
            self->round_trips_.observe(
                round_trip_bounds,
                std::chrono::duration<double>(Clock::now() - self->waiting_.front()).count());
        }
        self->waiting_.pop_front();
    }
    if (answer == nullptr) {
        ++self->unanswered_;
    } else if (answer->type == REDIS_REPLY_ERROR) {
        ++self->error_replies_;
    }
    (*callback)(static_cast<redisReply*>(reply));  // null when the connection went away
}

void RedisConnection::on_message(redisAsyncContext* context, void* reply, void*) {
    auto* self = static_cast<RedisConnection*>(context->data);
    const auto* message = static_cast<redisReply*>(reply);
    if (self == nullptr || message == nullptr || message->type != REDIS_REPLY_ARRAY ||
        message->elements != 3 || message->element[1]->type != REDIS_REPLY_STRING ||
        message->element[2]->type != REDIS_REPLY_STRING ||
        std::string_view(message->element[0]->str) != "message" || !self->events_.message) {
        return;
    }
    self->events_.message(std::string(message->element[1]->str, message->element[1]->len),
                          std::string(message->element[2]->str, message->element[2]->len));
}

}  // namespace hearth::auth
