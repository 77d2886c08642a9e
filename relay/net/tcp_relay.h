#pragma once

// RFC 6062 TCP relays for one worker: the relayed address listens for peers, Connect opens
// connections to peers from it, and ConnectionBind pairs each peer connection with a data
// connection from the client. Once paired, bytes flow both ways with backpressure.

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/net/connection_limiter.h"
#include "relay/net/loop_clock.h"
#include "relay/net/tcp_port_registry.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

// A client connection that sent a ConnectionBind, on its way to the peer connection's
// worker: the bufferevent itself when that is this worker, else a plain TCP socket.
struct DetachedStream {
    bufferevent* stream = nullptr;
    int fd = -1;
    std::vector<std::byte> unread;  // with `fd`: bytes that arrived after the ConnectionBind
    turn::TurnServer::TcpConnectionBind bind;
};

// Takes a client data connection to the worker whose TcpRelay holds its peer connection
// (TcpRelay::worker_of): the worker group, which knows every worker's loop.
class DataConnectionRouter {
  public:
    virtual ~DataConnectionRouter() = default;
    virtual void hand_to_worker(unsigned worker_index, DetachedStream stream) = 0;
};

class TcpRelay {
  public:
    // RFC 6062 §5.3: a peer connection not bound within 30 seconds is closed.
    static constexpr int bind_timeout_seconds = 30;
    static constexpr int connect_timeout_seconds = 10;
    static constexpr std::size_t max_connections_per_allocation = 32;

    // One relayed TCP address: its listener for peers and its allocation.
    struct RelayedAddress;

    // `limits.output_buffer_bytes` bounds what is queued towards either side.
    TcpRelay(event_base* base, const LoopClock& clock, unsigned worker_index,
             TcpPortRegistry& ports, const StreamLimits& limits);
    ~TcpRelay();
    TcpRelay(const TcpRelay&) = delete;
    TcpRelay& operator=(const TcpRelay&) = delete;
    // The state machine builds the late answers to Connect and ConnectionBind; it is made
    // after the relay sockets it uses, so it comes in here once it exists.
    void attach(turn::TurnServer& server) { server_ = &server; }

    // Listens for the peers of `owner` on `bound_fd`, a TCP socket bound to `address`
    // whose port the caller claimed in the registry. Null on failure (the fd is closed).
    RelayedAddress* open(int bound_fd, const TransportAddress& address, turn::Allocation& owner);
    // Closes the listener and every connection of that allocation; releases the port.
    void close(RelayedAddress* relayed);

    void connect(RelayedAddress* relayed, const turn::TurnServer::TcpConnect& request);
    // RFC 6062 §5.4: pairs a client data connection with its peer connection.
    void adopt(DetachedStream stream);
    // The 400 for a ConnectionBind that cannot be paired (RFC 6062 §5.4).
    stun::Bytes bind_refusal(const turn::TurnServer::TcpConnectionBind& bind);

    static std::uint32_t worker_of(std::uint32_t connection_id) { return connection_id >> 24; }

    std::uint64_t refused_without_permission = 0;
    std::uint64_t bind_timeouts = 0;
    std::uint64_t bandwidth_pauses = 0;  // a side paused until the bandwidth budgets refill
    std::uint64_t accept_out_of_descriptors = 0;  // a relayed address paused accepting

  private:
    struct PeerConnection;
    static void on_peer_accept(evconnlistener*, evutil_socket_t fd, sockaddr* address, int length,
                               void* context);
    static void on_peer_accept_error(evconnlistener* listener, void* context);
    static void on_accept_resume(evutil_socket_t, short, void* context);
    static void on_connect_event(bufferevent* stream, short events, void* context);
    static void on_bind_timeout(evutil_socket_t, short, void* context);
    static void on_pipe_read(bufferevent* stream, void* context);
    static void on_pipe_drained(bufferevent* stream, void* context);
    static void on_pipe_event(bufferevent* stream, short events, void* context);
    static void on_resume_timer(evutil_socket_t, short, void* context);

    PeerConnection* add_connection(RelayedAddress& relayed, const TransportAddress& peer,
                                   bufferevent* peer_stream);
    void remove_connection(PeerConnection* connection);
    // Removes a connection one side of which has closed once all it sent is written to
    // the other side; true when it did (the connection is gone).
    bool close_if_delivered(PeerConnection* connection);
    void answer(turn::Allocation& allocation, stun::Method method,
                const stun::TransactionId& transaction_id, const stun::IntegrityKey& key,
                std::optional<turn::TurnError> error, std::optional<std::uint32_t> connection_id);
    void send_connection_attempt(PeerConnection& connection);
    void refuse_stream(bufferevent* stream, stun::Bytes answer);
    std::uint32_t next_connection_id();

    event_base* base_;
    const LoopClock& clock_;
    unsigned worker_index_;
    turn::TurnServer* server_ = nullptr;
    TcpPortRegistry& ports_;
    const StreamLimits& limits_;
    std::size_t max_queued_bytes() const { return limits_.output_buffer_bytes; }
    std::uint32_t connection_counter_ = 0;
    std::unordered_map<std::uint32_t, std::unique_ptr<PeerConnection>> connections_;
    std::unordered_map<RelayedAddress*, std::unique_ptr<RelayedAddress>> addresses_;
    // Relayed addresses that stopped accepting when descriptors ran out, and the one timer
    // that starts them again.
    std::vector<RelayedAddress*> paused_accepting_;
    event* accept_resume_timer_ = nullptr;
    bool out_of_descriptors_ = false;  // logged once until an accept succeeds again
};

}  // namespace hearth::relay
