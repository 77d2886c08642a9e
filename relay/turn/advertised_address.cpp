#include "relay/turn/advertised_address.h"

namespace hearth::turn {

TransportAddress AdvertisedAddresses::of(const TransportAddress& relayed) const {
    const auto& external = relayed.ip.family == AddressFamily::ipv4 ? ipv4 : ipv6;
    if (!external) {
        return relayed;
    }
    return TransportAddress{*external, relayed.port};
}

}  // namespace hearth::turn
