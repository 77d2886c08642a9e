#pragma once

// RFC 6062 TCP relays for one worker: the relayed address listens for peers, Connect opens
// connections to peers from it, and ConnectionBind pairs each peer connection with a data
// connection from the client. Once paired, bytes flow both ways with backpressure.

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/turn/turn_server.h"

namespace hearth::relay {

class Worker;

// TCP relay ports in use on this node. Relayed TCP sockets need SO_REUSEPORT (the
// outgoing connections of Connect share the listener's port), which would also let two
// allocations bind one port; this registry keeps ports unique. Touched only when an
// allocation is made or deleted.
class TcpPortRegistry {
  public:
    bool claim(std::uint16_t port);
    void release(std::uint16_t port);

  private:
    std::mutex mutex_;
    std::set<std::uint16_t> in_use_;
};

// A client connection that sent a ConnectionBind, on its way to the peer connection's
// worker: the bufferevent itself when that is this worker, else a plain TCP socket.
struct DetachedStream {
    bufferevent* stream = nullptr;
    int fd = -1;
    std::vector<std::byte> unread;  // with `fd`: bytes that arrived after the ConnectionBind
    turn::TurnServer::TcpConnectionBind bind;
};

class TcpRelay {
  public:
    // RFC 6062 §5.3: a peer connection not bound within 30 seconds is closed.
    static constexpr int bind_timeout_seconds = 30;
    static constexpr int connect_timeout_seconds = 10;
    static constexpr std::size_t max_connections_per_allocation = 32;

    TcpRelay(Worker& worker, TcpPortRegistry& ports, std::size_t max_queued_bytes);
    ~TcpRelay();

    // Listens for the peers of `owner` on `bound_fd`, a TCP socket bound to `address`
    // whose port the caller claimed in the registry. Null on failure (the fd is closed).
    void* open(int bound_fd, const TransportAddress& address, turn::Allocation& owner);
    // Closes the listener and every connection of that allocation; releases the port.
    void close(void* handle);

    // `handle` is what open() returned for the allocation's relayed address.
    void connect(void* handle, const turn::TurnServer::TcpConnect& request);
    void adopt(DetachedStream stream);

    static std::uint32_t worker_of(std::uint32_t connection_id) { return connection_id >> 24; }

    std::uint64_t refused_without_permission = 0;
    std::uint64_t bind_timeouts = 0;
    std::uint64_t bandwidth_pauses = 0;  // a side paused until the bandwidth budgets refill
    std::uint64_t accept_out_of_descriptors = 0;  // a relayed address paused accepting

  private:
    struct RelayedAddress;
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
                const stun::TransactionId& transaction_id, const stun::Md5Key& key,
                std::optional<turn::TurnError> error, std::optional<std::uint32_t> connection_id);
    void send_connection_attempt(PeerConnection& connection);
    void refuse_stream(bufferevent* stream, stun::Bytes answer);
    std::uint32_t next_connection_id();

    Worker& worker_;
    TcpPortRegistry& ports_;
    std::size_t max_queued_bytes_;
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
