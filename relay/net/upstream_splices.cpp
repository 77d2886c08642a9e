#include "relay/net/upstream_splices.h"

#include <event2/buffer.h>
#include <sys/socket.h>

namespace hearth::relay {

namespace {

// What one direction holds at most: read no further ahead than this, and stop reading
// while the other side has this much still to write.
constexpr std::size_t direction_bound = 256 * 1024;
constexpr timeval connect_deadline{5, 0};
// After one side closed: the time the other gets to take what was still on its way.
constexpr timeval flush_deadline{10, 0};

}  // namespace

struct UpstreamSplices::Splice {
    UpstreamSplices* owner = nullptr;
    bufferevent* client = nullptr;
    bufferevent* upstream = nullptr;
    bool connected = false;
    bufferevent* other(bufferevent* side) const { return side == client ? upstream : client; }
};

void UpstreamSplices::SpliceDeleter::operator()(Splice* splice) const {
    if (splice->client != nullptr) {
        bufferevent_free(splice->client);
    }
    if (splice->upstream != nullptr) {
        bufferevent_free(splice->upstream);
    }
    delete splice;
}

void UpstreamSplices::add(bufferevent* client, const TransportAddress& upstream,
                          std::size_t max_open) {
    if (splices_.size() >= max_open) {
        ++counters.full;
        bufferevent_free(client);
        return;
    }
    std::unique_ptr<Splice, SpliceDeleter> splice(new Splice{this, client, nullptr, false});
    splice->upstream = bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE);
    if (splice->upstream == nullptr) {
        ++counters.unreachable;
        return;
    }
    for (bufferevent* side : {splice->client, splice->upstream}) {
        bufferevent_setcb(side, &UpstreamSplices::on_read, &UpstreamSplices::on_write,
                          &UpstreamSplices::on_event, splice.get());
        bufferevent_setwatermark(side, EV_READ, 0, direction_bound);
        bufferevent_setwatermark(side, EV_WRITE, direction_bound / 2, 0);
    }
    // What the client sent so far (its ClientHello) leaves first, once connected.
    evbuffer_add_buffer(bufferevent_get_output(splice->upstream),
                        bufferevent_get_input(splice->client));
    bufferevent_set_timeouts(splice->upstream, nullptr, &connect_deadline);
    sockaddr_storage address{};
    const socklen_t length = upstream.to_sockaddr(address);
    Splice* key = splice.get();
    splices_.emplace(key, std::move(splice));
    // A connect that fails at once may have reported it through on_event already.
    if (bufferevent_socket_connect(key->upstream, reinterpret_cast<sockaddr*>(&address),
                                   static_cast<int>(length)) != 0 &&
        splices_.erase(key) > 0) {
        ++counters.unreachable;
    }
}

void UpstreamSplices::on_read(bufferevent* from, void* context) {
    auto* splice = static_cast<Splice*>(context);
    bufferevent* to = splice->other(from);
    evbuffer* output = bufferevent_get_output(to);
    evbuffer_add_buffer(output, bufferevent_get_input(from));
    if (evbuffer_get_length(output) >= direction_bound) {
        bufferevent_disable(from, EV_READ);  // on_write resumes it
    }
}

// `to`'s output fell to half the bound: its writer may read again.
void UpstreamSplices::on_write(bufferevent* to, void* context) {
    auto* splice = static_cast<Splice*>(context);
    if (splice->connected) {
        bufferevent_enable(splice->other(to), EV_READ);
    }
}

void UpstreamSplices::on_event(bufferevent* side, short events, void* context) {
    auto* splice = static_cast<Splice*>(context);
    UpstreamSplices& self = *splice->owner;
    if ((events & BEV_EVENT_CONNECTED) != 0) {
        splice->connected = true;
        ++self.counters.opened;
        bufferevent_set_timeouts(side, nullptr, nullptr);
        bufferevent_enable(splice->client, EV_READ);
        bufferevent_enable(splice->upstream, EV_READ);
        return;
    }
    if (!splice->connected) {
        if (side == splice->upstream) {
            ++self.counters.unreachable;  // else the client left while it was connecting
        }
        self.splices_.erase(splice);
        return;
    }
    if ((events & BEV_EVENT_EOF) != 0) {
        // What `side` sent before closing is still owed to the other side.
        bufferevent* other = splice->other(side);
        if (other == nullptr) {
            self.splices_.erase(splice);  // the other side closed first
            return;
        }
        evbuffer_add_buffer(bufferevent_get_output(other), bufferevent_get_input(side));
        bufferevent_free(side);
        (side == splice->client ? splice->client : splice->upstream) = nullptr;
        self.close_after_flush(splice, other);
        return;
    }
    self.splices_.erase(splice);  // an error, or the flush deadline passed
}

// One side closed: `last_open` writes what it still holds, then both are gone.
void UpstreamSplices::close_after_flush(Splice* splice, bufferevent* last_open) {
    if (evbuffer_get_length(bufferevent_get_output(last_open)) == 0) {
        splices_.erase(splice);
        return;
    }
    bufferevent_disable(last_open, EV_READ);
    bufferevent_setwatermark(last_open, EV_WRITE, 0, 0);
    bufferevent_setcb(
        last_open, nullptr,
        [](bufferevent* to, void* context) {
            auto* splice = static_cast<Splice*>(context);
            if (evbuffer_get_length(bufferevent_get_output(to)) == 0) {
                splice->owner->splices_.erase(splice);
            }
        },
        &UpstreamSplices::on_event, splice);
    bufferevent_set_timeouts(last_open, nullptr, &flush_deadline);
}

}  // namespace hearth::relay
