#pragma once

// Stream connections accepted from a trusted proxy (`listen.proxy_protocol_from`) while
// their PROXY header (proxy_header.h) is read: before anything else on the connection,
// and so before a TLS ClientHello, straight from the socket. The header is required: a
// connection that sends anything else, a bad header, or not all of it within the
// deadline is closed and counted. Once read, the connection goes on as the client's whose
// address the header carries: a plain bufferevent on the socket, the header consumed and
// whatever followed it still in its input. Any stream listener (TCP, TLS, and a
// multiplexing one later) reads the header this way, once per connection.

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "relay/net/proxy_header.h"
#include "relay/stun/transport_address.h"

namespace hearth::relay {

class ProxyHeaderReader {
  public:
    // `socket` is now the caller's; `client` is the header's source address, or the
    // proxy's own for a header that carries none (v2 LOCAL, v1 UNKNOWN).
    using Done = std::function<void(bufferevent* socket, const TransportAddress& client)>;

    // Headers awaited at once per listener: trusted proxies send theirs with the
    // connection, so only a misbehaving one comes near this.
    static constexpr std::size_t max_pending = 1024;

    ProxyHeaderReader(event_base* base, Done done) : base_(base), done_(std::move(done)) {}
    ~ProxyHeaderReader() = default;
    ProxyHeaderReader(const ProxyHeaderReader&) = delete;
    ProxyHeaderReader& operator=(const ProxyHeaderReader&) = delete;

    // Takes `fd`, accepted from `proxy`, and reads its header within `deadline`.
    void add(evutil_socket_t fd, const TransportAddress& proxy, std::chrono::seconds deadline);

    struct Counters {
        std::uint64_t accepted = 0;
        std::uint64_t missing = 0;    // the first bytes were no PROXY header
        std::uint64_t malformed = 0;  // a signature, then what the spec forbids
        std::uint64_t too_long = 0;
        std::uint64_t timeout = 0;       // not all of it within the deadline
        std::uint64_t too_many = 0;      // max_pending already awaited
        std::uint64_t closed_early = 0;  // the proxy closed before the header was complete
    };
    Counters counters;

  private:
    struct Pending;
    struct PendingDeleter {
        void operator()(Pending* pending) const;
    };
    static void on_read(bufferevent* socket, void* context);
    static void on_event(bufferevent* socket, short events, void* context);
    static void on_deadline(evutil_socket_t, short, void* context);
    void refuse(Pending* pending, std::uint64_t& counter);
    void finish(Pending* pending, const ProxyHeader& header);

    event_base* base_;
    Done done_;
    std::unordered_map<Pending*, std::unique_ptr<Pending, PendingDeleter>> pending_;
};

}  // namespace hearth::relay
