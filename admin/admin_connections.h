#pragma once

// The admin API's connections, each seen from the moment evhttp accepts it: evhttp's
// bufferevent callback makes the connection's bufferevent here, and a reference to it is
// kept until evhttp has let it go. Each connection is cut at an absolute deadline counted
// from its opening: evhttp's own timeout restarts with every byte, so a client sending
// one every few seconds would hold a connection as long as it liked. Connections past
// the cap are cut at once. Every answer closes its connection, so a connection's deadline
// is its request's. Looked at every 100 ms while any is open, and at every new one.

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace hearth::admin {

struct AdminConnectionCounters {
    std::uint64_t open = 0;
    std::uint64_t refused = 0;  // past the cap
    std::uint64_t cut = 0;      // at the deadline
};

class AdminConnections {
  public:
    struct Limits {
        std::uint32_t max_connections = 64;
        std::chrono::seconds request_deadline{10};
    };
    AdminConnections(event_base* base, Limits limits);
    ~AdminConnections();
    AdminConnections(const AdminConnections&) = delete;
    AdminConnections& operator=(const AdminConnections&) = delete;

    // Reload: the cap and deadline that new connections meet.
    void set_limits(Limits limits) { limits_ = limits; }
    const Limits& limits() const { return limits_; }

    // evhttp_set_bevcb's callback (`self` is this): the bufferevent of a new connection.
    static bufferevent* open(event_base* base, void* self);
    // Whether the connection a request came on was within the cap when it opened.
    bool within_cap(const bufferevent* stream) const;
    AdminConnectionCounters counters() const;

  private:
    using Clock = std::chrono::steady_clock;
    struct Connection {
        bufferevent* stream = nullptr;  // one reference is ours
        Clock::time_point deadline;
        bool within_cap = false;
        bool cut = false;
    };
    static void on_look(evutil_socket_t, short, void* context);
    // Lets go of the connections evhttp is done with; cuts those past their deadline.
    void look(Clock::time_point now);
    void look_again_in(timeval delay);

    Limits limits_;
    event* look_timer_;
    std::vector<Connection> connections_;
    std::uint64_t refused_ = 0;
    std::uint64_t cut_ = 0;
};

}  // namespace hearth::admin
