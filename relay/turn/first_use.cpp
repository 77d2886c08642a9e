// The first packet relayed under a permission or on a channel binding (DESIGN.md flow 6:
// relayed to which peers). The packet path tests the entry's flag it already holds and
// comes here once per permission and channel, so only that first packet pays for the event.

#include "relay/turn/turn_server.h"

namespace hearth::turn {

void TurnServer::note_first_use(Allocation& allocation, Permission& permission,
                                ChannelBinding* channel, const TransportAddress& peer,
                                Direction direction) {
    if (!permission.used) {
        permission.used = true;
        events_.permission_first_used(allocation, peer, direction);
    }
    if (channel != nullptr && !channel->used) {
        channel->used = true;
        events_.channel_first_used(allocation, *channel, direction);
    }
}

void TurnServer::note_stream_relayed(Allocation& allocation, const TransportAddress& peer,
                                     Direction direction, TimePoint now) {
    // A connection outlives its permission (RFC 6062 §5.3 checks it when the connection is
    // made): past it there is nothing left to mark.
    if (Permission* permission = allocation.live_permission(peer.ip, now)) {
        if (!permission->used) {
            note_first_use(allocation, *permission, nullptr, peer, direction);
        }
    }
}

}  // namespace hearth::turn
