#pragma once

// A TCP or TLS listening socket for TURN clients (RFC 8656 §3.1): accepts within the
// node's connection bounds, wraps TLS when it is a TLS listener, and hands each new
// connection to its StreamConnections. A connection from a trusted load balancer
// (`listen.proxy_protocol_from`) first has its PROXY header read, and is then bounded and
// served as the client's the header names.

#include <event2/listener.h>

#include <string>

#include "relay/net/proxy_header_reader.h"
#include "relay/net/stream_connection.h"
#include "relay/net/stream_parts.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/five_tuple.h"

namespace hearth::relay {

class TcpListener {
  public:
    // `transport` is tcp or tls; a TLS listener takes the worker's current TLS context.
    TcpListener(const StreamParts& parts, TransportAddress address,
                turn::ClientTransport transport);
    ~TcpListener();
    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;

    bool open(std::string& error);

    const StreamConnections::Counters& counters() const { return connections_.counters; }
    std::uint64_t accept_out_of_descriptors() const { return accept_out_of_descriptors_; }
    const ProxyHeaderReader::Counters& proxy_header_counters() const {
        return proxy_headers_.counters;
    }

  private:
    static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address,
                          int length, void* context);
    static void on_accept_error(evconnlistener* listener, void* context);
    static void on_resume(evutil_socket_t, short, void* context);
    bool from_trusted_proxy(const IpAddress& source) const;
    void accept_from_proxy(bufferevent* socket, const TransportAddress& client);
    void start(bufferevent* socket, const TransportAddress& client);
    bufferevent* secure(bufferevent* socket);
    bool admit(const IpAddress& source);

    StreamParts parts_;
    TransportAddress address_;
    turn::ClientTransport transport_;
    StreamConnections connections_;
    ProxyHeaderReader proxy_headers_;
    evconnlistener* listener_ = nullptr;
    event* resume_timer_ = nullptr;  // re-enables accepting after descriptors ran out
    bool out_of_descriptors_ = false;
    std::uint64_t accept_out_of_descriptors_ = 0;
};

}  // namespace hearth::relay
