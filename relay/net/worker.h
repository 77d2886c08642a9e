#pragma once

// One event-loop thread (DESIGN.md "Share nothing"): its own event base, its own
// SO_REUSEPORT listeners, and every allocation made through them with their relay
// sockets and timers. Other threads reach it only through event_base_once/loopexit.

#include <event2/event.h>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "relay/net/client_link.h"
#include "relay/config/config.h"
#include "relay/net/connection_limiter.h"
#include "relay/net/credential_authenticator.h"
#include "relay/net/log_events.h"
#include "relay/loop/task_queue.h"
#include "relay/net/relay_socket_pool.h"
#include "relay/net/snapshot.h"
#include "relay/net/tls_context.h"
#include "relay/turn/shared_limits.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

class UdpListener;
class TcpListener;

// What every worker shares: the cross-worker caps, the nonce key, the session store,
// the TCP relay ports, and the workers themselves (to hand an RFC 6062 data connection to
// the worker that owns its peer connection).
struct SharedState {
    turn::SharedLimits limits;
    std::array<std::byte, 32> nonce_key{};
    auth::SessionStore* session_store = nullptr;
    TcpPortRegistry tcp_ports;
    ConnectionLimiter connections;
    std::vector<Worker*> workers;
    unsigned worker_count = 1;
    std::uint32_t descriptor_allocation_cap = UINT32_MAX;  // what RLIMIT_NOFILE allows
};

class Worker {
  public:
    Worker(unsigned index, const config::Config& config, SharedState& shared,
           SslContextPointer tls_context);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Binds this worker's listeners; called on the main thread before run().
    bool open_listeners(const config::Config& config, std::string& error);
    void run();   // the thread body: runs the loop until stop()
    void stop();  // safe from any thread

    unsigned index() const { return index_; }
    SharedState& shared() { return shared_; }
    const StreamLimits& stream_limits() const { return stream_limits_; }
    event_base* base() const { return base_; }
    turn::TurnServer& server() { return *server_; }
    RelaySocketPool& relay_sockets() { return relay_sockets_; }
    // The loop's cached time, read once per batch of packets.
    turn::Now now() const;

    // The TLS context new connections use. Swapped on the worker's own thread (reload);
    // connections already up keep the context they started with.
    SSL_CTX* tls_context() const { return tls_context_.get(); }
    // Reload: limits and the peer policy from `config` (on this worker's own thread).
    void apply_config(const config::Config& config);
    // Reload: the TLS context new connections use (on this worker's own thread).
    void set_tls_context(SslContextPointer context) { tls_context_ = std::move(context); }
    // Reload: the secrets this worker checks credentials with (on its own thread).
    void replace_secrets(auth::SecretRing secrets) {
        authenticator_.replace_secrets(std::move(secrets));
    }
    // Runs `task` on this worker's thread. Control plane only (it allocates).
    void post(std::function<void(Worker&)> task);
    WorkerSnapshot snapshot();

    // A request the session store has not answered yet (SessionRefusal::pending): kept,
    // bounded, and handed in again when an answer comes.
    void set_aside(stun::Bytes request, const turn::FiveTuple& tuple, ClientLink& link);
    void forget_requests_of(const ClientLink& link);

    // Scratch for one peer datagram with room to wrap it in place (turn_server.h).
    // A peer datagram must still fit a Data indication's 16-bit length with its headers.
    static constexpr std::size_t max_datagram = 65000;
    // Room for a batch of peer datagrams (one recvmmsg), each with the headroom and
    // tailroom wrap_peer_datagram writes into.
    static constexpr std::size_t peer_batch = 32;
    static constexpr std::size_t peer_buffer_size =
        turn::peer_data_headroom + max_datagram + turn::peer_data_tailroom;
    std::span<std::byte> peer_buffer(std::size_t index) {
        return {peer_buffers_.data() + index * peer_buffer_size, peer_buffer_size};
    }

  private:
    static void on_expiry_timer(evutil_socket_t, short, void* context);

    unsigned index_;
    SharedState& shared_;
    StreamLimits stream_limits_;
    event_base* base_;
    CredentialAuthenticator authenticator_;
    LogEvents events_;
    RelaySocketPool relay_sockets_;
    std::unique_ptr<turn::TurnServer> server_;
    std::vector<std::unique_ptr<UdpListener>> udp_listeners_;
    std::vector<std::unique_ptr<TcpListener>> tcp_listeners_;
    event* expiry_timer_ = nullptr;
    std::unique_ptr<TaskQueue> tasks_;
    SslContextPointer tls_context_;
    std::vector<std::byte> peer_buffers_;
    struct SetAside {
        std::vector<std::byte> request;
        turn::FiveTuple tuple;
        ClientLink* link;
    };
    static constexpr std::size_t max_set_aside = 4096;
    std::vector<SetAside> set_aside_;
    std::uint64_t set_aside_dropped_ = 0;  // requests dropped while the store's answers wait
    void hand_in_set_aside();
};

}  // namespace hearth::relay
