#include "admin/admin_connections.h"

#include <sys/socket.h>

#include <algorithm>

namespace hearth::admin {

namespace {

constexpr timeval look_interval{0, 100'000};
constexpr timeval at_once{0, 0};
// Input read ahead of evhttp: a request's headers (8 KiB) and body (4 KiB) fit; it bounds
// what a connection evhttp has let go can still read before it is closed.
constexpr std::size_t max_input_bytes = 16 * 1024;

// Whether evhttp has freed its side of `stream` (freeing clears the callbacks; our
// reference keeps the memory, and the socket open, until we let go too).
bool let_go_by_evhttp(bufferevent* stream) {
    bufferevent_data_cb read = nullptr;
    bufferevent_data_cb write = nullptr;
    bufferevent_event_cb events = nullptr;
    void* argument = nullptr;
    bufferevent_getcb(stream, &read, &write, &events, &argument);
    return events == nullptr;
}

}  // namespace

AdminConnections::AdminConnections(event_base* base, Limits limits)
    : limits_(limits), look_timer_(evtimer_new(base, &AdminConnections::on_look, this)) {}

AdminConnections::~AdminConnections() {
    // Called once evhttp has freed its connections: ours are the last references.
    for (const auto& connection : connections_) {
        bufferevent_decref(connection.stream);
    }
    if (look_timer_ != nullptr) {
        event_free(look_timer_);
    }
}

bufferevent* AdminConnections::open(event_base* base, void* self_pointer) {
    auto* self = static_cast<AdminConnections*>(self_pointer);
    const auto now = Clock::now();
    self->look(now);
    // Closed on free, so that the descriptor number is not reused while we still hold
    // the bufferevent; evhttp then only shuts down its side.
    bufferevent* stream = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (stream == nullptr) {
        return nullptr;  // evhttp makes its own: out of memory, nothing to bound
    }
    bufferevent_incref(stream);
    bufferevent_setwatermark(stream, EV_READ, 0, max_input_bytes);
    const bool within_cap = self->counters().open < self->limits_.max_connections;
    // Past the cap, the connection is cut as soon as evhttp has given it its socket.
    self->connections_.push_back(
        {stream, within_cap ? now + self->limits_.request_deadline : now, within_cap, false});
    if (!within_cap) {
        ++self->refused_;
    }
    self->look_again_in(within_cap ? look_interval : at_once);
    return stream;
}

void AdminConnections::on_look(evutil_socket_t, short, void* context) {
    auto* self = static_cast<AdminConnections*>(context);
    self->look(Clock::now());
    if (!self->connections_.empty()) {
        self->look_again_in(look_interval);
    }
}

void AdminConnections::look_again_in(timeval delay) {
    const bool now = delay.tv_sec == 0 && delay.tv_usec == 0;
    if (look_timer_ != nullptr && (now || !evtimer_pending(look_timer_, nullptr))) {
        evtimer_add(look_timer_, &delay);
    }
}

// The socket is shut down rather than the connection freed: evhttp then sees the end of
// the stream itself, in whatever state it is, and frees the connection its own way (a
// request already handed to a route is detached, and its late answer dropped).
void AdminConnections::look(Clock::time_point now) {
    std::erase_if(connections_, [&](Connection& connection) {
        if (let_go_by_evhttp(connection.stream)) {
            bufferevent_disable(connection.stream, EV_READ | EV_WRITE);
            bufferevent_decref(connection.stream);
            return true;
        }
        if (!connection.cut && now >= connection.deadline) {
            shutdown(bufferevent_getfd(connection.stream), SHUT_RDWR);
            connection.cut = true;
            cut_ += connection.within_cap ? 1 : 0;
        }
        return false;
    });
}

bool AdminConnections::within_cap(const bufferevent* stream) const {
    const auto found = std::ranges::find(connections_, stream, &Connection::stream);
    return found != connections_.end() && found->within_cap;
}

AdminConnectionCounters AdminConnections::counters() const {
    AdminConnectionCounters counters;
    counters.open = static_cast<std::uint64_t>(std::ranges::count_if(
        connections_, [](const Connection& c) { return c.within_cap && !c.cut; }));
    counters.refused = refused_;
    counters.cut = cut_;
    return counters;
}

}  // namespace hearth::admin
