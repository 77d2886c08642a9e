#pragma once

// A TCP or TLS listening socket for TURN clients (RFC 8656 §3.1): accepts within the
// node's connection bounds, wraps TLS when it is a TLS listener, and hands each new
// connection to its StreamConnections.

#include <event2/listener.h>

#include <string>

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

  private:
    static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address,
                          int length, void* context);
    static void on_accept_error(evconnlistener* listener, void* context);
    static void on_resume(evutil_socket_t, short, void* context);
    bufferevent* wrap(evutil_socket_t fd);
    bool admit(const IpAddress& source);

    StreamParts parts_;
    TransportAddress address_;
    turn::ClientTransport transport_;
    StreamConnections connections_;
    evconnlistener* listener_ = nullptr;
    event* resume_timer_ = nullptr;  // re-enables accepting after descriptors ran out
    bool out_of_descriptors_ = false;
    std::uint64_t accept_out_of_descriptors_ = 0;
};

}  // namespace hearth::relay
