#pragma once

// One TCP or TLS client connection (RFC 8656 §3.1): STUN and ChannelData framed on the
// byte stream (stream_framing.h), every frame handed to the dispatcher. A ConnectionBind
// (RFC 6062 §5.4) turns it into a data connection of the TCP relay.

#include <event2/bufferevent.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "relay/net/stream_parts.h"
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

  private:
    static void on_read(bufferevent* stream, void* context);
    static void on_event(bufferevent* stream, short events, void* context);
    static void on_handshake_deadline(evutil_socket_t, short, void* context);
    void set_idle_timeout();
    void close_for_unfinished_handshake();
    enum class ReadResult { keep_open, close, handed_over };
    ReadResult read_frames();
    void hand_over_after_callback(turn::TurnServer::TcpConnectionBind bind);
    void hand_over(turn::TurnServer::TcpConnectionBind bind);

    StreamConnections& owner_;
    const StreamParts& parts_;
    bufferevent* stream_;
    turn::FiveTuple tuple_;
    event* handshake_deadline_ = nullptr;  // TLS only, until the handshake completes
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
    };
    Counters counters;

  private:
    const StreamParts& parts_;
    std::unordered_map<StreamConnection*, std::unique_ptr<StreamConnection>> connections_;
};

}  // namespace hearth::relay
