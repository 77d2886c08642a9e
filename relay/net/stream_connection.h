#pragma once

// One TCP or TLS client connection (RFC 8656 §3.1): STUN and ChannelData framed on the
// byte stream (stream_framing.h), every frame handed to the dispatcher. A ConnectionBind
// (RFC 6062 §5.4) turns it into a data connection of the TCP relay.
//
// Until its 5-tuple holds an allocation a connection is unauthenticated (issue 17): it is
// closed at a deadline counted from its opening, it may buffer one STUN message and send
// no ChannelData, and it counts against the unauthenticated share of the connection
// bounds, where a newcomer may take its place (unauthenticated_connections.h).

#include <event2/bufferevent.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "relay/net/stream_parts.h"
#include "relay/net/unauthenticated_connections.h"
#include "relay/stun/stream_framing.h"
#include "relay/turn/client_link.h"
#include "relay/turn/five_tuple.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

class StreamConnections;

class StreamConnection final : public turn::ClientLink {
  public:
    StreamConnection(StreamConnections& owner, bufferevent* stream, turn::FiveTuple tuple);
    ~StreamConnection() override;
    StreamConnection(const StreamConnection&) = delete;
    StreamConnection& operator=(const StreamConnection&) = delete;

    bool send_to_client(const TransportAddress& client, stun::Bytes message) override;
    bool is_stream() const override { return true; }

    const TransportAddress& client() const { return tuple_.client; }
    // Closes this unauthenticated connection to make room for a new one.
    void evict();

  private:
    static void on_read(bufferevent* stream, void* context);
    static void on_event(bufferevent* stream, short events, void* context);
    static void on_handshake_deadline(evutil_socket_t, short, void* context);
    static void on_unauthenticated_deadline(evutil_socket_t, short, void* context);
    void set_idle_timeout();
    void start_unauthenticated_deadline();
    void close_for_unfinished_handshake();
    // Whether the connection has made its allocation, now or since the last look (one made
    // by a request parked on the session store shows only through the dispatcher).
    bool authenticated();
    void leave_unauthenticated();
    enum class ReadResult { keep_open, close, handed_over };
    ReadResult read_frames();
    bool refuse_before_authentication(const stun::Frame& frame);
    bool looks_like_untrusted_proxy_header();
    void hand_over_after_callback(turn::TurnServer::TcpConnectionBind bind);
    void hand_over(turn::TurnServer::TcpConnectionBind bind);

    StreamConnections& owner_;
    const StreamParts& parts_;
    bufferevent* stream_;
    turn::FiveTuple tuple_;
    event* handshake_deadline_ = nullptr;  // TLS only, until the handshake completes
    event* unauthenticated_deadline_ = nullptr;
    // Set while the connection is unauthenticated: its place among the worker's.
    std::optional<UnauthenticatedConnections::Position> unauthenticated_position_;
};

// The connections one listener accepted, and what they count.
class StreamConnections {
  public:
    explicit StreamConnections(const StreamParts& parts) : parts_(parts) {}
    ~StreamConnections() { connections_.clear(); }

    void add(bufferevent* stream, const turn::FiveTuple& tuple);
    void close(StreamConnection* connection) { connections_.erase(connection); }
    bool holds(StreamConnection* connection) const { return connections_.contains(connection); }
    const StreamParts& parts() const { return parts_; }

    struct Counters {
        std::uint64_t not_stun = 0;     // framing failed: closed
        std::uint64_t output_full = 0;  // a slow reader's data dropped
        std::uint64_t tls_handshake_failures = 0;
        // Closed before making an allocation: at the deadline, for sending ChannelData,
        // or to make room for a newcomer.
        std::uint64_t no_allocation_in_time = 0;
        std::uint64_t unauthenticated_frames = 0;
        std::uint64_t evicted_unauthenticated = 0;
        // Began with a PROXY header from an address not trusted to send one: closed.
        std::uint64_t proxy_header_untrusted = 0;
    };
    Counters counters;

  private:
    const StreamParts& parts_;
    std::unordered_map<StreamConnection*, std::unique_ptr<StreamConnection>> connections_;
};

}  // namespace hearth::relay
