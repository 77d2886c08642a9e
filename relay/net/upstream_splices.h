#pragma once

// Connections on a multiplexing listener whose TLS ClientHello names another service of
// the host (`mux.upstreams`: the platform's web app sharing port 443 with the relay):
// passed to that service byte for byte, unterminated, the ClientHello included, until
// either side closes. Each direction reads only while the other side's output is below a
// bound, so a slow reader slows its writer instead of growing a buffer; a connect and a
// last flush after a close each have a deadline. Nothing is parsed or logged per read.

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

class UpstreamSplices {
  public:
    explicit UpstreamSplices(event_base* base) : base_(base) {}
    ~UpstreamSplices() = default;
    UpstreamSplices(const UpstreamSplices&) = delete;
    UpstreamSplices& operator=(const UpstreamSplices&) = delete;

    // Takes `client` (reading off, no callbacks, what was read so far in its input) and
    // connects it to `upstream`, unless `max_open` splices are open already.
    void add(bufferevent* client, const TransportAddress& upstream, std::size_t max_open);

    std::size_t open() const { return splices_.size(); }

    struct Counters {
        std::uint64_t opened = 0;       // connected to their upstream
        std::uint64_t unreachable = 0;  // the upstream refused, failed or did not answer
        std::uint64_t full = 0;         // refused: max_open splices were open
    };
    Counters counters;

  private:
    struct Splice;
    struct SpliceDeleter {
        void operator()(Splice* splice) const;
    };
    static void on_read(bufferevent* from, void* context);
    static void on_write(bufferevent* to, void* context);
    static void on_event(bufferevent* side, short events, void* context);
    void close_after_flush(Splice* splice, bufferevent* last_open);

    event_base* base_;
    std::unordered_map<Splice*, std::unique_ptr<Splice, SpliceDeleter>> splices_;
};

}  // namespace hearth::relay
