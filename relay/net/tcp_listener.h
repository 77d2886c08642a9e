#pragma once

// TURN over TCP and TLS (RFC 8656 §3.1): a listener and the connections it accepts. STUN
// and ChannelData are framed on the byte stream (stream_framing.h); the relayed side is UDP.

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "relay/net/client_link.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/five_tuple.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

class Worker;
class TcpListener;

class StreamConnection final : public ClientLink {
  public:
    StreamConnection(TcpListener& listener, bufferevent* stream, turn::FiveTuple tuple);
    ~StreamConnection() override;
    bool send_to_client(const TransportAddress& client, stun::Bytes message) override;
    bool is_stream() const override { return true; }
    void hand_in(const turn::FiveTuple& tuple, stun::Bytes request) override;

  private:
    static void on_read(bufferevent* stream, void* context);
    static void on_event(bufferevent* stream, short events, void* context);
    static void on_handshake_deadline(evutil_socket_t, short, void* context);
    void set_idle_timeout();
    void close_for_unfinished_handshake();
    enum class ReadResult { keep_open, close, handed_over };
    // close when the stream is not STUN or ChannelData.
    ReadResult read_frames();
    // Returns the ConnectionBind to carry out, if the frame was one that may proceed.
    std::optional<turn::TurnServer::TcpConnectionBind> handle_frame(stun::Bytes frame,
                                                                    bool is_channel_data);
    void hand_over(turn::TurnServer::TcpConnectionBind bind);

    TcpListener& listener_;
    bufferevent* stream_;
    turn::FiveTuple tuple_;
    event* handshake_deadline_ = nullptr;  // TLS only, until the handshake completes
};

class TcpListener {
  public:
    // `transport` is tcp or tls; a TLS listener takes the worker's current TLS context.
    TcpListener(Worker& worker, TransportAddress address, turn::ClientTransport transport);
    ~TcpListener();
    bool open(std::string& error);
    Worker& worker() { return worker_; }
    void close_connection(StreamConnection* connection);
    bool owns(StreamConnection* connection) const { return connections_.contains(connection); }
    std::uint64_t dropped_output_full = 0;
    std::uint64_t tls_handshake_failures = 0;
    std::uint64_t dropped_not_stun = 0;
    std::uint64_t accept_out_of_descriptors = 0;  // accept paused for want of descriptors
    std::uint64_t dropped_malformed = 0;

  private:
    static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address,
                          int length, void* context);
    static void on_accept_error(evconnlistener* listener, void* context);
    static void on_resume(evutil_socket_t, short, void* context);

    Worker& worker_;
    TransportAddress address_;
    turn::ClientTransport transport_;
    evconnlistener* listener_ = nullptr;
    event* resume_timer_ = nullptr;  // re-enables accepting after descriptors ran out
    bool out_of_descriptors_ = false;
    std::unordered_map<StreamConnection*, std::unique_ptr<StreamConnection>> connections_;
};

}  // namespace hearth::relay
