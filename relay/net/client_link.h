#pragma once

// The way back to a client: a UDP listener socket (and the client's address) or a
// TCP/TLS connection. An allocation keeps a pointer to the link it was made through.

#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/five_tuple.h"

namespace hearth::relay {

class ClientLink {
  public:
    virtual ~ClientLink() = default;
    // Sends one message to the client; false when a full queue dropped it.
    virtual bool send_to_client(const TransportAddress& client, stun::Bytes message) = 0;
    // Streams need ChannelData padded to four bytes (RFC 8656 §12.5).
    virtual bool is_stream() const = 0;
    // Handles a STUN request that was set aside while the session store answered.
    virtual void hand_in(const turn::FiveTuple& tuple, stun::Bytes request) = 0;
};

}  // namespace hearth::relay
