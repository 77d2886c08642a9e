#pragma once

// One event-loop thread (DESIGN.md "Share nothing"): its own event base, its own
// SO_REUSEPORT listeners, and every allocation made through them with their relay
// sockets and timers. The worker builds its parts and hands each what it needs; none of
// them knows the worker. Other threads reach it only through post().

#include <event2/event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/config/config.h"
#include "relay/loop/task_queue.h"
#include "relay/net/client_dispatcher.h"
#include "relay/net/credential_authenticator.h"
#include "relay/net/log_events.h"
#include "relay/net/loop_clock.h"
#include "relay/net/relay_socket_pool.h"
#include "relay/net/shared_state.h"
#include "relay/net/snapshot.h"
#include "relay/net/stream_parts.h"
#include "relay/net/tcp_relay.h"
#include "relay/net/tls_context.h"
#include "relay/turn/turn_server.h"
#include "relay/xdp/fast_path_channels.h"

namespace hearth::relay {

class UdpListener;
class TcpListener;

class Worker {
  public:
    Worker(unsigned index, const config::Config& config, SharedState& shared,
           SslContextPointer tls_context, DataConnectionRouter& other_workers);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Binds this worker's listeners; called on the main thread before run().
    bool open_listeners(const config::Config& config, std::string& error);
    void run();   // the thread body: runs the loop until stop()
    void stop();  // safe from any thread
    // Runs `task` on this worker's thread. Control plane only (it allocates).
    void post(std::function<void(Worker&)> task);

    // Everything below runs on the worker's own thread (through post()).
    WorkerSnapshot snapshot();
    // Reload: limits, the peer policy, the realm and the stream limits from `config`; the
    // TLS context new connections use (connections already up keep theirs); the secrets
    // credentials are checked with.
    void apply_config(const config::Config& config);
    void set_tls_context(SslContextPointer context) { tls_context_ = std::move(context); }
    void replace_secrets(auth::SecretRing secrets) {
        authenticator_.replace_secrets(std::move(secrets));
    }
    // Draining: new Allocates are redirected (RFC 8489 §10) or refused.
    void set_draining(bool draining, std::optional<turn::Redirect> redirect);
    // Revocation: the allocations of a session (of one user when `user_id` is not empty).
    std::size_t delete_session_allocations(const std::string& session_id,
                                           const std::string& user_id);
    // Deletes (as revoked) every allocation whose owner `doomed` names; returns how many.
    std::size_t delete_allocations_if(const std::function<bool(const turn::Owner&)>& doomed);
    // Rejoin (allocation_quota.h): how this worker's Allocates reach an allocation they
    // replaced on another worker; set before the threads start.
    void route_replacements(std::function<void(turn::AllocationId)> replace_elsewhere);
    // Deletes, as replaced, the allocation `id` if it is still here.
    bool delete_replaced(turn::AllocationId id);
    // Deletes, as disconnected by an operator, the allocation `id` if it is here.
    bool disconnect(turn::AllocationId id) {
        return server_.delete_by_id(id, turn::DeleteReason::disconnected);
    }
    // An allocation ID carries its worker's index in its top bits (unique across workers).
    static constexpr unsigned allocation_id_shift = 48;
    static unsigned worker_of(turn::AllocationId id) {
        return static_cast<unsigned>(id >> allocation_id_shift);
    }
    // RFC 6062: a client data connection whose peer connection this worker holds.
    void adopt_data_connection(DetachedStream stream) { tcp_relay_.adopt(std::move(stream)); }

  private:
    struct EventBaseDeleter {
        void operator()(event_base* base) const { event_base_free(base); }
    };
    struct EventDeleter {
        void operator()(event* owned) const { event_free(owned); }
    };
    static void on_housekeeping(evutil_socket_t, short, void* context);
    static void on_fast_path_tick(evutil_socket_t, short, void* context);

    // Declared in the order they are built; destroyed in reverse, the loop last.
    unsigned index_;
    std::unique_ptr<event_base, EventBaseDeleter> base_;
    LoopClock clock_;
    TaskQueue tasks_;
    StreamLimits stream_limits_;
    SslContextPointer tls_context_;
    CredentialAuthenticator authenticator_;
    LogEvents events_;
    TcpRelay tcp_relay_;
    RelaySocketPool relay_sockets_;
    std::unique_ptr<xdp::FastPathChannels> fast_path_;  // null: off; outlives the server
    turn::TurnServer server_;
    ClientDispatcher dispatcher_;
    UnauthenticatedConnections unauthenticated_connections_;  // outlives the listeners
    StreamParts stream_parts_;
    std::vector<std::unique_ptr<UdpListener>> udp_listeners_;
    std::vector<std::unique_ptr<TcpListener>> tcp_listeners_;
    std::unique_ptr<event, EventDeleter> housekeeping_timer_;
    std::unique_ptr<event, EventDeleter> fast_path_timer_;
};

}  // namespace hearth::relay
