#pragma once

// Redis Sentinel, from the client's side: which server is the master of a name (SENTINEL
// get-master-addr-by-name, each sentinel asked in turn until one answers), and a
// subscription to +switch-master on one sentinel, so a failover is followed at once.

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/redis_connection.h"

struct redisAsyncContext;

namespace hearth::auth {

class RedisSentinels {
  public:
    using Found = std::function<void(std::optional<RedisEndpoint>)>;
    using Switched = std::function<void(const RedisEndpoint&)>;
    RedisSentinels(event_base* base, std::vector<RedisEndpoint> sentinels, std::string master_name,
                   std::chrono::milliseconds timeout);
    ~RedisSentinels();
    RedisSentinels(const RedisSentinels&) = delete;
    RedisSentinels& operator=(const RedisSentinels&) = delete;

    // Asks for the master; `found` runs once (nullopt when no sentinel could tell within
    // the timeout each). `switched` runs for every +switch-master of the name from then on.
    void find_master(Found found, Switched switched);

  private:
    void ask_next();
    void answered(std::optional<RedisEndpoint> master);
    void watch();
    static void on_master_address(redisAsyncContext* context, void* reply, void* privdata);
    static void on_switch(redisAsyncContext* context, void* reply, void* privdata);
    static void on_watcher_gone(const redisAsyncContext* context, int status);
    static void on_timeout(evutil_socket_t, short, void* context);

    event_base* base_;
    std::vector<RedisEndpoint> sentinels_;
    std::string master_name_;
    std::chrono::milliseconds timeout_;
    Found found_;
    Switched switched_;
    redisAsyncContext* asking_ = nullptr;
    std::size_t next_ = 0;   // the sentinel asked next
    std::size_t tried_ = 0;  // sentinels asked for this answer
    redisAsyncContext* watcher_ = nullptr;
    event* timeout_timer_ = nullptr;
};

}  // namespace hearth::auth
