#include "auth/redis_sentinels.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace hearth::auth {

namespace {

constexpr const char* switch_channel = "+switch-master";

void forget(redisAsyncContext*& context) {
    if (context != nullptr) {
        redisAsyncContext* doomed = context;
        context = nullptr;
        doomed->data = nullptr;
        redisAsyncFree(doomed);
    }
}

redisAsyncContext* open_context(event_base* base, const RedisEndpoint& endpoint, void* owner) {
    redisAsyncContext* context = redisAsyncConnect(endpoint.host.c_str(), endpoint.port);
    if (context == nullptr || context->err != 0) {
        if (context != nullptr) {
            redisAsyncFree(context);
        }
        return nullptr;
    }
    context->data = owner;
    redisEnableKeepAlive(&context->c);
    redisLibeventAttach(context, base);
    return context;
}

}  // namespace

RedisSentinels::RedisSentinels(event_base* base, std::vector<RedisEndpoint> sentinels,
                               std::string master_name, std::chrono::milliseconds timeout)
    : base_(base),
      sentinels_(std::move(sentinels)),
      master_name_(std::move(master_name)),
      timeout_(timeout),
      timeout_timer_(evtimer_new(base, &RedisSentinels::on_timeout, this)) {}

RedisSentinels::~RedisSentinels() {
    event_free(timeout_timer_);
    forget(asking_);
    forget(watcher_);
}

void RedisSentinels::find_master(Found found, Switched switched) {
    found_ = std::move(found);
    switched_ = std::move(switched);
    tried_ = 0;
    watch();
    ask_next();
}

void RedisSentinels::ask_next() {
    forget(asking_);
    if (tried_ == sentinels_.size()) {
        answered(std::nullopt);
        return;
    }
    ++tried_;
    const RedisEndpoint& sentinel = sentinels_[next_++ % sentinels_.size()];
    asking_ = open_context(base_, sentinel, this);
    if (asking_ == nullptr || redisAsyncCommand(asking_, &RedisSentinels::on_master_address,
                                                nullptr, "SENTINEL get-master-addr-by-name %s",
                                                master_name_.c_str()) != REDIS_OK) {
        ask_next();
        return;
    }
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
    const timeval deadline{static_cast<time_t>(micros / 1000000),
                           static_cast<suseconds_t>(micros % 1000000)};
    evtimer_add(timeout_timer_, &deadline);
}

void RedisSentinels::answered(std::optional<RedisEndpoint> master) {
    evtimer_del(timeout_timer_);
    forget(asking_);
    if (found_) {
        auto found = std::move(found_);
        found_ = nullptr;
        found(std::move(master));
    }
}

void RedisSentinels::on_master_address(redisAsyncContext* context, void* reply, void*) {
    auto* self = static_cast<RedisSentinels*>(context->data);
    if (self == nullptr || context != self->asking_) {
        return;
    }
    const auto* answer = static_cast<redisReply*>(reply);
    if (answer == nullptr) {
        self->asking_ = nullptr;  // hiredis is tearing this connection down itself
        self->ask_next();
        return;
    }
    if (answer->type != REDIS_REPLY_ARRAY || answer->elements != 2 ||
        answer->element[0]->type != REDIS_REPLY_STRING ||
        answer->element[1]->type != REDIS_REPLY_STRING) {
        self->ask_next();  // this sentinel is down or does not know the name
        return;
    }
    const int port = std::atoi(answer->element[1]->str);
    if (port <= 0 || port > 65535) {
        self->ask_next();
        return;
    }
    self->answered(
        RedisEndpoint{std::string(answer->element[0]->str), static_cast<std::uint16_t>(port)});
}

void RedisSentinels::on_timeout(evutil_socket_t, short, void* context) {
    static_cast<RedisSentinels*>(context)->ask_next();
}

// One sentinel watched at a time; when it goes away the next find_master watches another.
void RedisSentinels::watch() {
    if (watcher_ != nullptr) {
        return;
    }
    const RedisEndpoint& sentinel = sentinels_[next_ % sentinels_.size()];
    watcher_ = open_context(base_, sentinel, this);
    if (watcher_ == nullptr) {
        return;
    }
    redisAsyncSetDisconnectCallback(watcher_, &RedisSentinels::on_watcher_gone);
    redisAsyncCommand(watcher_, &RedisSentinels::on_switch, nullptr, "SUBSCRIBE %s",
                      switch_channel);
}

void RedisSentinels::on_watcher_gone(const redisAsyncContext* context, int) {
    auto* self = static_cast<RedisSentinels*>(context->data);
    if (self != nullptr && context == self->watcher_) {
        self->watcher_ = nullptr;  // hiredis frees it once this returns
    }
}

// "+switch-master NAME OLD-IP OLD-PORT NEW-IP NEW-PORT"
void RedisSentinels::on_switch(redisAsyncContext* context, void* reply, void*) {
    auto* self = static_cast<RedisSentinels*>(context->data);
    const auto* message = static_cast<redisReply*>(reply);
    if (self == nullptr || message == nullptr || message->type != REDIS_REPLY_ARRAY ||
        message->elements != 3 || message->element[2]->type != REDIS_REPLY_STRING ||
        std::string_view(message->element[0]->str) != "message") {
        return;
    }
    std::istringstream fields(std::string(message->element[2]->str, message->element[2]->len));
    std::string name, old_host, old_port, new_host;
    int new_port = 0;
    fields >> name >> old_host >> old_port >> new_host >> new_port;
    if (name != self->master_name_ || new_port <= 0 || new_port > 65535 || !self->switched_) {
        return;
    }
    self->switched_(RedisEndpoint{new_host, static_cast<std::uint16_t>(new_port)});
}

}  // namespace hearth::auth
