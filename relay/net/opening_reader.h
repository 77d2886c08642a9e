#pragma once

// Stream connections whose opening bytes are read before anything else serves them: a
// PROXY header from a trusted load balancer (proxy_header_reader.h), then, on a
// multiplexing listener, what the connection is (first_bytes.h). Each connection waits
// here with a deadline from its opening (not an inactivity timeout that each byte
// restarts) and a bounded read; `examine` looks at what has arrived and either waits for
// more, refuses the connection (counting why, in its own counters), or decides; `done` then
// gets the socket with everything still in its input, callbacks cleared, reading off.
// `closed` hears of every connection closed here without a decision, for whoever counted
// it in (a listener's connection bounds).

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <variant>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

struct OpeningNeedsMore {};
struct OpeningRefused {};

template <typename Verdict>
class OpeningReader {
  public:
    using Examined = std::variant<OpeningNeedsMore, OpeningRefused, Verdict>;
    using Examine =
        std::function<Examined(std::span<const std::byte> received, const TransportAddress& from)>;
    using Done =
        std::function<void(bufferevent* socket, const TransportAddress& from, const Verdict&)>;
    using Closed = std::function<void(const TransportAddress& from)>;

    // Connections awaited at once per listener and worker.
    static constexpr std::size_t max_pending = 1024;

    struct Counters {
        std::uint64_t timeout = 0;       // undecided at the deadline
        std::uint64_t closed_early = 0;  // closed (or failed) before a decision
        std::uint64_t too_many = 0;      // max_pending already awaited
    };
    Counters counters;

    // `max_bytes`: what `examine` needs at most to decide.
    OpeningReader(event_base* base, std::size_t max_bytes, Examine examine, Done done,
                  Closed closed = {})
        : base_(base),
          max_bytes_(max_bytes),
          examine_(std::move(examine)),
          done_(std::move(done)),
          closed_(std::move(closed)) {}
    OpeningReader(const OpeningReader&) = delete;
    OpeningReader& operator=(const OpeningReader&) = delete;

    // Takes `socket`, opened by `from`, and decides it within `deadline`. Bytes already in
    // its input are examined on the loop's next turn: no read event would come for them.
    void add(bufferevent* socket, const TransportAddress& from, std::chrono::seconds deadline) {
        if (pending_.size() >= max_pending) {
            ++counters.too_many;
            bufferevent_free(socket);
            return tell_closed(from);
        }
        std::unique_ptr<Pending, PendingDeleter> pending(new Pending{this, socket, nullptr, from});
        pending->deadline = evtimer_new(base_, &OpeningReader::on_deadline, pending.get());
        const timeval within{static_cast<time_t>(deadline.count()), 0};
        if (pending->deadline == nullptr || evtimer_add(pending->deadline, &within) != 0) {
            pending.reset();  // no connection without its bound
            return tell_closed(from);
        }
        bufferevent_setwatermark(socket, EV_READ, 0, max_bytes_);
        bufferevent_setcb(socket, &OpeningReader::on_read, nullptr, &OpeningReader::on_event,
                          pending.get());
        bufferevent_enable(socket, EV_READ);
        if (evbuffer_get_length(bufferevent_get_input(socket)) > 0) {
            bufferevent_trigger(socket, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
        }
        Pending* key = pending.get();
        pending_.emplace(key, std::move(pending));
    }

  private:
    struct Pending {
        OpeningReader* owner = nullptr;
        bufferevent* socket = nullptr;  // null once handed on
        event* deadline = nullptr;
        TransportAddress from;
    };
    struct PendingDeleter {
        void operator()(Pending* pending) const {
            if (pending->deadline != nullptr) {
                event_free(pending->deadline);
            }
            if (pending->socket != nullptr) {
                bufferevent_free(pending->socket);
            }
            delete pending;
        }
    };

    static void on_read(bufferevent* socket, void* context) {
        auto* pending = static_cast<Pending*>(context);
        OpeningReader& self = *pending->owner;
        evbuffer* input = bufferevent_get_input(socket);
        const auto length = std::min(evbuffer_get_length(input), self.max_bytes_);
        const auto* bytes = reinterpret_cast<const std::byte*>(
            evbuffer_pullup(input, static_cast<ssize_t>(length)));
        auto examined = self.examine_(std::span(bytes, length), pending->from);
        if (std::holds_alternative<OpeningRefused>(examined)) {
            self.close(pending);
        } else if (auto* verdict = std::get_if<Verdict>(&examined)) {
            self.finish(pending, *verdict);
        }
    }
    static void on_event(bufferevent*, short events, void* context) {
        auto* pending = static_cast<Pending*>(context);
        if ((events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) != 0) {
            ++pending->owner->counters.closed_early;
            pending->owner->close(pending);
        }
    }
    static void on_deadline(evutil_socket_t, short, void* context) {
        auto* pending = static_cast<Pending*>(context);
        ++pending->owner->counters.timeout;
        pending->owner->close(pending);
    }
    void close(Pending* pending) {
        const TransportAddress from = pending->from;
        pending_.erase(pending);  // closes the socket
        tell_closed(from);
    }
    void tell_closed(const TransportAddress& from) {
        if (closed_) {
            closed_(from);
        }
    }
    void finish(Pending* pending, const Verdict& verdict) {
        bufferevent* socket = pending->socket;
        pending->socket = nullptr;
        bufferevent_disable(socket, EV_READ);
        bufferevent_setcb(socket, nullptr, nullptr, nullptr, nullptr);
        bufferevent_setwatermark(socket, EV_READ, 0, 0);
        const TransportAddress from = pending->from;
        pending_.erase(pending);
        done_(socket, from, verdict);
    }

    event_base* base_;
    std::size_t max_bytes_;
    Examine examine_;
    Done done_;
    Closed closed_;
    std::unordered_map<Pending*, std::unique_ptr<Pending, PendingDeleter>> pending_;
};

}  // namespace hearth::relay
