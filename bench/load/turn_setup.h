#pragma once

// Setting up hearth-load's allocations: requests built with hearth's own codec, sent to
// the server over one connection per allocation (UDP, TCP or TLS), answered or, over UDP,
// retransmitted (RFC 8489 §6.2.1) in one epoll loop, many at a time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/load/client_connection.h"
#include "bench/load/load_options.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"

namespace hearth::load {

// One allocation's client: its socket, credentials and what the server told it.
struct LoadClient {
    std::unique_ptr<ClientConnection> connection;
    std::string username;
    std::string password;
    std::string realm;
    std::string nonce;
    stun::Md5Key key{};
    TransportAddress relayed;
    TransportAddress peer;  // where its packets go through the relay
    std::uint16_t channel = 0x4000;
};

// Opens one connection per allocation; closes them on destruction.
class LoadClients {
  public:
    LoadClients(const LoadOptions& options, std::string& error);
    ~LoadClients();
    LoadClients(const LoadClients&) = delete;
    LoadClients& operator=(const LoadClients&) = delete;

    std::vector<LoadClient>& all() { return clients_; }

    // Allocate for every client (the 401, then with credentials). False with `error` when
    // any allocation failed; the time it took is in `elapsed`.
    bool allocate(std::chrono::duration<double>& elapsed, std::string& error);
    // A channel to (or, in send mode, a permission for) each client's `peer`.
    bool open_paths(DataMode mode, std::string& error);
    // Refresh with LIFETIME 0 for every allocation: the server frees them at once.
    void release();

  private:
    enum class Step { allocate, bind, release };
    // One client's request of a round: its bytes, and when it is sent again.
    struct Pending {
        stun::TransactionId id{};
        std::vector<std::byte> bytes;
        std::chrono::steady_clock::time_point resend_at{};
        int sends = 0;
        int reopens = 0;
        bool done = false;
    };
    // One step for every client: at most `window` requests in flight at once.
    struct Round {
        Step step;
        std::vector<Pending> pending;
        std::size_t started = 0;
        std::size_t finished = 0;
    };
    // Sends `step`'s request for every client, many at a time, until each is answered or
    // has been sent seven times; calls `answer` with each answer.
    template <typename OnAnswer>
    bool exchange(Step step, OnAnswer answer, std::string& error);
    // Sends client `index`'s request; `fresh` builds a new one (new transaction).
    void send(Round& round, std::size_t index, bool fresh);
    // Reads what client `index`'s connection has; false with `error` when the round fails.
    template <typename OnAnswer>
    bool take_answers(Round& round, std::size_t index, OnAnswer& on_answer, std::string& error);
    // Sends again what has waited past its timeout; false when a request ran out of tries.
    bool resend_overdue(Round& round, std::string& error);
    std::vector<std::byte> request_for(Step step, LoadClient& client,
                                       const stun::TransactionId& id) const;
    // A new connection (so a new local port) for client `index`.
    bool reopen(std::size_t index, std::string& error);

    const LoadOptions& options_;
    ClientTlsContext tls_;
    std::vector<LoadClient> clients_;
    int epoll_fd_ = -1;
};

}  // namespace hearth::load
