#pragma once

// The TurnServer collaborators the microbenchmarks need and do not measure: relay
// sockets that are never opened, events that go nowhere.

#include "relay/turn/turn_server.h"

namespace hearth::turn::bench {

class NullRelaySockets final : public RelaySockets {
  public:
    std::optional<RelayEndpoint> open(AddressFamily, bool, Allocation&) override {
        return RelayEndpoint{*TransportAddress::parse("203.0.113.1:50000"), nullptr};
    }
    bool family_available(AddressFamily family) const override {
        return family == AddressFamily::ipv4;
    }
    void close(RelayEndpoint&) override {}
};

class NullEvents final : public AllocationEvents {
  public:
    void allocation_created(const Allocation&) override {}
    void allocation_refreshed(const Allocation&, Seconds) override {}
    void allocation_deleted(const Allocation&, DeleteReason) override {}
    void request_refused(const RefusedRequest&) override {}
    void peer_refused(const Allocation&, const IpAddress&, PeerRefusal) override {}
    void username_banned(const IpAddress&, std::string_view, Seconds) override {}
    void source_throttled(const IpAddress&, Seconds) override {}
    void permission_first_used(const Allocation&, const TransportAddress&, Direction) override {}
    void channel_first_used(const Allocation&, const ChannelBinding&, Direction) override {}
};

}  // namespace hearth::turn::bench
