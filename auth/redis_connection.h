#pragma once

// One Redis master, kept reachable: a connection for commands and one for the
// subscriptions, on the main thread's event base (hiredis' asynchronous API; nothing
// blocks). A command that gets no answer within `command_timeout` counts as an outage:
// both connections are dropped, every command waiting is answered with nothing (null),
// and they are opened again with backoff. Idle, the connection is pinged every second, so
// a Redis that hangs (SIGSTOP, a stuck disk) is noticed while nobody asks it anything.
// With Sentinel, the master is asked of the sentinels, and a failover (+switch-master, or
// the master going away) is followed.

#include <event2/event.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "relay/turn/histogram.h"

struct redisAsyncContext;
struct redisReply;

namespace hearth::auth {

struct RedisEndpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
};

class RedisSentinels;

struct RedisConnectionSettings {
    RedisEndpoint server;  // without sentinels: the master
    std::string password;
    // With sentinels: where to ask for the master named `master_name`.
    std::vector<RedisEndpoint> sentinels;
    std::string master_name = "hearth";
    std::chrono::milliseconds command_timeout{2000};
};

class RedisConnection {
  public:
    using Reply = std::function<void(redisReply*)>;  // null: no answer (down, timed out)
    struct Events {
        std::function<void()> up;    // connected (again) to a master
        std::function<void()> down;  // lost it: closed, refused, timed out
        // A message on a channel subscribed to with subscribe().
        std::function<void(const std::string& channel, const std::string& payload)> message;
    };
    RedisConnection(event_base* base, RedisConnectionSettings settings, Events events);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    void start();
    // Sends a command; `on_reply` runs once, with null when there is no answer.
    void command(std::vector<std::string> arguments, Reply on_reply);
    // Channels subscribed to on every (re)connection.
    void subscribe(std::string channel) { channels_.push_back(std::move(channel)); }

    bool up() const { return up_.load(std::memory_order_relaxed); }
    std::uint64_t outages() const { return outages_.load(std::memory_order_relaxed); }
    std::uint64_t timeouts() const { return timeouts_.load(std::memory_order_relaxed); }
    // The master in use, "host:port" ("" before the first connection).
    std::string master() const;

    // Round-trip times of the commands Redis answered, and the commands that failed by
    // kind: an error reply, or no answer at all (not connected, or the connection lost
    // while it waited; those past the timeout are `timeouts()`). Main thread only, as
    // every call here: one observation per command, none per packet.
    static constexpr std::array<double, 12> round_trip_bounds{
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
    using RoundTrips = turn::Histogram<round_trip_bounds.size()>;
    const RoundTrips& round_trips() const { return round_trips_; }
    std::uint64_t error_replies() const { return error_replies_; }
    std::uint64_t unanswered() const { return unanswered_; }

  private:
    void connect();
    void connect_to(const RedisEndpoint& master);
    void schedule_reconnect();
    void drop(const char* why);  // both connections, then reconnect
    void became_up();
    void check_deadlines();
    static void on_connect(const redisAsyncContext* context, int status);
    static void on_disconnect(const redisAsyncContext* context, int status);
    static void on_reply(redisAsyncContext* context, void* reply, void* privdata);
    static void on_message(redisAsyncContext* context, void* reply, void* privdata);

    event_base* base_;
    RedisConnectionSettings settings_;
    Events events_;
    std::vector<std::string> channels_;
    redisAsyncContext* commands_ = nullptr;
    redisAsyncContext* subscriber_ = nullptr;
    RedisEndpoint master_;
    bool connected_commands_ = false;
    std::chrono::steady_clock::time_point connect_started_;
    // When each command still waiting was sent: Redis answers in order, so the oldest
    // is the first to time out.
    std::deque<std::chrono::steady_clock::time_point> waiting_;
    RoundTrips round_trips_;
    std::uint64_t error_replies_ = 0;
    std::uint64_t unanswered_ = 0;
    std::chrono::steady_clock::time_point last_sent_;
    std::unique_ptr<RedisSentinels> sentinels_;
    event* reconnect_timer_ = nullptr;
    event* deadline_timer_ = nullptr;
    std::chrono::milliseconds backoff_{250};
    bool closing_ = false;
    std::atomic<bool> up_{false};
    std::atomic<std::uint64_t> outages_{0};
    std::atomic<std::uint64_t> timeouts_{0};
};

}  // namespace hearth::auth
