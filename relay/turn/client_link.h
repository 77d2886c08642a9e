#pragma once

// The way back to a client, as an allocation keeps it: the I/O layer implements it with a
// UDP listener socket (and the client's address) or a TCP/TLS connection.

#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"

namespace hearth::turn {

class ClientLink {
  public:
    virtual ~ClientLink() = default;
    // Sends one message to the client; false when a full queue dropped it.
    virtual bool send_to_client(const TransportAddress& client, stun::Bytes message) = 0;
    // Streams need ChannelData padded to four bytes (RFC 8656 §12.5).
    virtual bool is_stream() const = 0;
};

}  // namespace hearth::turn
