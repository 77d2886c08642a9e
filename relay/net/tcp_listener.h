#pragma once

// A TCP, TLS or multiplexing listening socket for TURN clients (RFC 8656 §3.1): accepts
// within the node's connection bounds, wraps TLS when the connection is TLS, and hands
// each new connection to its StreamConnections. A connection from a trusted load balancer
// (`listen.proxy_protocol_from`) first has its PROXY header read, and is then bounded and
// served as the client's the header names. A multiplexing listener (`listen.mux`) then
// reads the connection's first bytes (first_bytes.h): TURN over TCP, TLS naming one of
// `mux.upstreams` (passed on unterminated, upstream_splices.h), or TURN over TLS.

#include <event2/listener.h>

#include <string>

#include "relay/net/first_bytes.h"
#include "relay/net/opening_reader.h"
#include "relay/net/proxy_header_reader.h"
#include "relay/net/stream_connection.h"
#include "relay/net/stream_parts.h"
#include "relay/net/upstream_splices.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/five_tuple.h"

namespace hearth::relay {

enum class ListenerKind { tcp, tls, mux };

class TcpListener {
  public:
    // TLS connections take the worker's current TLS context.
    TcpListener(const StreamParts& parts, TransportAddress address, ListenerKind kind);
    ~TcpListener();
    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;

    bool open(std::string& error);

    const StreamConnections::Counters& counters() const { return connections_.counters; }
    std::uint64_t accept_out_of_descriptors() const { return accept_out_of_descriptors_; }
    ProxyHeaderReader::Counters proxy_header_counters() const { return proxy_headers_.counters(); }

    // What a multiplexing listener made of its connections' first bytes.
    struct MuxCounters {
        std::uint64_t turn_tcp = 0;
        std::uint64_t turn_tls = 0;
        std::uint64_t upstream = 0;
        std::uint64_t unknown = 0;
        std::uint64_t malformed = 0;
        std::uint64_t too_long = 0;
        OpeningReader<FirstBytes>::Counters opening;  // timeouts, early closes, too many
        UpstreamSplices::Counters splices;
        std::size_t upstream_open = 0;
    };
    MuxCounters mux_counters() const;

  private:
    static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address,
                          int length, void* context);
    static void on_accept_error(evconnlistener* listener, void* context);
    static void on_resume(evutil_socket_t, short, void* context);
    bool from_trusted_proxy(const IpAddress& source) const;
    void accept_from_proxy(bufferevent* socket, const TransportAddress& client);
    void start(bufferevent* socket, const TransportAddress& client);
    OpeningReader<FirstBytes>::Examined examine_first_bytes(std::span<const std::byte> received);
    void dispatch(bufferevent* socket, const TransportAddress& client, const FirstBytes& first);
    void serve(bufferevent* socket, const TransportAddress& client,
               turn::ClientTransport transport);
    bufferevent* secure(bufferevent* socket);
    bool admit(const IpAddress& source);

    StreamParts parts_;
    TransportAddress address_;
    ListenerKind kind_;
    StreamConnections connections_;
    ProxyHeaderReader proxy_headers_;
    OpeningReader<FirstBytes> first_bytes_;  // multiplexing listeners only
    UpstreamSplices splices_;
    MuxCounters mux_;
    evconnlistener* listener_ = nullptr;
    event* resume_timer_ = nullptr;  // re-enables accepting after descriptors ran out
    bool out_of_descriptors_ = false;
    std::uint64_t accept_out_of_descriptors_ = 0;
};

}  // namespace hearth::relay
