#pragma once

// The one way in for a client's message (DESIGN.md, relay/net). Both listeners hand it
// every UDP datagram and every whole TCP/TLS frame; it tells ChannelData from STUN, asks
// the state machine, and carries out the outcome: answer the client, relay to the peer,
// open an RFC 6062 connection, park the request until the session store answers, or
// drop it and count it. Owned by one worker; nothing here blocks.

#include <cstdint>
#include <optional>

#include "relay/net/parked_requests.h"
#include "relay/stun/message.h"
#include "relay/stun/stream_framing.h"
#include "relay/turn/client_link.h"
#include "relay/turn/turn_server.h"

namespace hearth::relay {

class RelaySocketPool;

class ClientDispatcher {
  public:
    struct Counters {
        std::uint64_t udp_not_stun = 0;  // a datagram neither STUN nor ChannelData
        std::uint64_t malformed = 0;     // looked like STUN, did not parse (RFC 8489 §6.3)
        std::uint64_t parked = 0;        // requests that waited for the session store
        std::uint64_t resumed = 0;       // ...and were handed in again by its answer
        // Requests dropped while waiting: table or source full, or waited past max_wait.
        std::uint64_t parked_dropped = 0;
        std::uint64_t parked_expired = 0;
    };

    ClientDispatcher(turn::TurnServer& server, RelaySocketPool& relays,
                     ParkedRequests::Limits parking);

    // A datagram from a UDP client.
    void on_datagram(turn::ClientLink& link, const turn::FiveTuple& tuple, stun::Bytes datagram,
                     const turn::Now& now);
    // A whole frame from a TCP or TLS client (stream_framing.h told its kind). Returns the
    // RFC 6062 ConnectionBind to carry out: the connection becomes a data connection,
    // which only the connection itself can do.
    std::optional<turn::TurnServer::TcpConnectionBind> on_frame(turn::ClientLink& link,
                                                                const turn::FiveTuple& tuple,
                                                                stun::Bytes frame,
                                                                stun::FrameKind kind,
                                                                const turn::Now& now);
    // The session store answered `question`: what was parked under it goes in again.
    void resume(const turn::StoreQuestion& question, const turn::Now& now);
    // A TCP or TLS connection closed: its parked requests go with it, and its allocation
    // (RFC 8656 §3.1: an allocation lives no longer than its connection).
    void connection_closed(const turn::ClientLink& link, const turn::FiveTuple& tuple) {
        parked_.forget(link);
        server_.client_gone(tuple);
    }
    // Whether `tuple` holds an allocation: how a TCP or TLS connection learns that it has
    // authenticated, also when its Allocate was parked and answered later.
    bool holds_allocation(const turn::FiveTuple& tuple) { return server_.find(tuple) != nullptr; }
    // Drops requests that waited too long (run every second).
    void expire(turn::TimePoint now) { counters_.parked_expired += parked_.expire(now); }

    const Counters& counters() const { return counters_; }
    std::size_t parked_count() const { return parked_.size(); }

  private:
    void relay_channel_data(const turn::FiveTuple& tuple, stun::Bytes message, turn::TimePoint now);
    std::optional<turn::TurnServer::TcpConnectionBind> dispatch_stun(turn::ClientLink& link,
                                                                     const turn::FiveTuple& tuple,
                                                                     stun::Bytes bytes,
                                                                     const turn::Now& now);
    void park(const turn::StoreQuestion& question, turn::ClientLink& link,
              const turn::FiveTuple& tuple, const stun::MessageView& message, stun::Bytes bytes,
              turn::TimePoint now);

    turn::TurnServer& server_;
    RelaySocketPool& relays_;
    ParkedRequests parked_;
    Counters counters_;
};

}  // namespace hearth::relay
