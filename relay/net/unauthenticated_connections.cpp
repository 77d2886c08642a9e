#include "relay/net/unauthenticated_connections.h"

#include "relay/net/stream_connection.h"
#include "relay/turn/source_prefix.h"

namespace hearth::relay {

bool UnauthenticatedConnections::evict_oldest(const IpAddress* source) {
    const auto prefix = source != nullptr ? turn::source_prefix(*source) : IpAddress{};
    for (StreamConnection* connection : connections_) {
        if (source == nullptr || turn::source_prefix(connection->client().ip) == prefix) {
            connection->evict();  // removes it from the list
            return true;
        }
    }
    return false;
}

}  // namespace hearth::relay
