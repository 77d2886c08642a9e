#include "relay/turn/turn_error.h"

namespace hearth::turn {

const char* reason_phrase(TurnError error) {
    switch (error) {
        case TurnError::try_alternate:
            return "Try Alternate";
        case TurnError::bad_request:
            return "Bad Request";
        case TurnError::unauthorized:
            return "Unauthorized";
        case TurnError::forbidden:
            return "Forbidden";
        case TurnError::unknown_attribute:
            return "Unknown Attribute";
        case TurnError::allocation_mismatch:
            return "Allocation Mismatch";
        case TurnError::stale_nonce:
            return "Stale Nonce";
        case TurnError::address_family_not_supported:
            return "Address Family not Supported";
        case TurnError::wrong_credentials:
            return "Wrong Credentials";
        case TurnError::unsupported_transport_protocol:
            return "Unsupported Transport Protocol";
        case TurnError::peer_address_family_mismatch:
            return "Peer Address Family Mismatch";
        case TurnError::connection_already_exists:
            return "Connection Already Exists";
        case TurnError::connection_timeout_or_failure:
            return "Connection Timeout or Failure";
        case TurnError::allocation_quota_reached:
            return "Allocation Quota Reached";
        case TurnError::server_error:
            return "Server Error";
        case TurnError::insufficient_capacity:
            return "Insufficient Capacity";
    }
    return "Error";
}

}  // namespace hearth::turn
