#pragma once

#include <optional>

#include "relay/stun/message.h"
#include "relay/turn/authenticator.h"
#include "relay/turn/clock.h"
#include "relay/turn/five_tuple.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

// A request being handled: what came in, from where, and what authenticating it proved.
struct TurnServer::Request {
    const stun::MessageView& message;
    const FiveTuple& tuple;
    const Now& now;
    ClientLink* client_link = nullptr;
    std::optional<Credentials> credentials;  // set once authenticated: answers carry MI
    Allocation* allocation = nullptr;        // set for requests on an existing allocation
};

}  // namespace hearth::turn
