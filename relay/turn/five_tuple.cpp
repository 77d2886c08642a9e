#include "relay/turn/five_tuple.h"

namespace hearth::turn {

const char* to_string(ClientTransport transport) {
    switch (transport) {
        case ClientTransport::udp:
            return "udp";
        case ClientTransport::tcp:
            return "tcp";
        case ClientTransport::tls:
            return "tls";
    }
    return "?";
}

}  // namespace hearth::turn
