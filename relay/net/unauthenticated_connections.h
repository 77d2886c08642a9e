#pragma once

// One worker's TCP and TLS client connections that have not made an allocation yet, oldest
// first. When the connection bounds leave no room for a new connection but such
// connections hold some of it, the new one takes the place of the oldest (of its source,
// when it is the source's share that is full): whoever holds connections without
// authenticating is pushed out by newcomers, while a participant needs its place only for
// the round trips of its first Allocate (issue 17). Every connection of an IPv4 client
// address meets on one worker (tcp_listener.cpp), so a source's oldest is found here.

#include <list>

#include "relay/stun/transport_address.h"

namespace hearth::relay {

class StreamConnection;

class UnauthenticatedConnections {
  public:
    using Position = std::list<StreamConnection*>::iterator;

    Position add(StreamConnection* connection) {
        return connections_.insert(connections_.end(), connection);
    }
    void remove(Position position) { connections_.erase(position); }
    // Closes the oldest, or the oldest from `source`'s prefix when given; false when there
    // is none.
    bool evict_oldest(const IpAddress* source);

  private:
    std::list<StreamConnection*> connections_;
};

}  // namespace hearth::relay
