#pragma once

// Stream connections accepted from a trusted proxy (`listen.proxy_protocol_from`) while
// their PROXY header (proxy_header.h) is read: before anything else on the connection,
// and so before a TLS ClientHello, straight from the socket. The header is required: a
// connection that sends anything else, a bad header, or not all of it within the
// deadline is closed and counted. Once read, the connection goes on as the client's whose
// address the header carries: a plain bufferevent on the socket, the header consumed and
// whatever followed it still in its input. Every stream listener (TCP, TLS and
// multiplexing) reads the header this way, once per connection.

#include <event2/bufferevent.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "relay/net/opening_reader.h"
#include "relay/net/proxy_header.h"
#include "relay/stun/transport_address.h"

namespace hearth::relay {

class ProxyHeaderReader {
  public:
    // `socket` is now the caller's; `client` is the header's source address, or the
    // proxy's own for a header that carries none (v2 LOCAL, v1 UNKNOWN).
    using Done = std::function<void(bufferevent* socket, const TransportAddress& client)>;

    ProxyHeaderReader(event_base* base, Done done);

    // Takes `fd`, accepted from `proxy`, and reads its header within `deadline`.
    void add(evutil_socket_t fd, const TransportAddress& proxy, std::chrono::seconds deadline);

    struct Counters {
        std::uint64_t accepted = 0;
        std::uint64_t missing = 0;    // the first bytes were no PROXY header
        std::uint64_t malformed = 0;  // a signature, then what the spec forbids
        std::uint64_t too_long = 0;
        std::uint64_t timeout = 0;       // not all of it within the deadline
        std::uint64_t too_many = 0;      // OpeningReader::max_pending already awaited
        std::uint64_t closed_early = 0;  // the proxy closed before the header was complete
    };
    Counters counters() const;

  private:
    OpeningReader<ProxyHeader>::Examined examine(std::span<const std::byte> received,
                                                 const TransportAddress& proxy);
    void finish(bufferevent* socket, const TransportAddress& proxy, const ProxyHeader& header);

    event_base* base_;
    Done done_;
    Counters counters_;  // what the header's own reading counts; the rest is reader_'s
    OpeningReader<ProxyHeader> reader_;
};

}  // namespace hearth::relay
