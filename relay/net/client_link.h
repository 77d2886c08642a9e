#pragma once

// The way back to a client: a UDP listener socket (and the client's address) or a
// TCP/TLS connection. An allocation keeps a pointer to the link it was made through.

#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/client_link.h"
#include "relay/turn/five_tuple.h"

namespace hearth::relay {

class ClientLink : public turn::ClientLink {
  public:
    // Handles a STUN request that was set aside while the session store answered.
    virtual void hand_in(const turn::FiveTuple& tuple, stun::Bytes request) = 0;
};

}  // namespace hearth::relay
