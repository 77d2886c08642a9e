// Every trick a reviewer would try against the peer policy (DESIGN.md "Security defaults").

#include "relay/turn/peer_policy.h"

#include <gtest/gtest.h>

namespace hearth::turn {
namespace {

// `address` at port 5000, which nothing in these tests listens on.
PeerRefusal check(const PeerPolicy& policy, std::string_view address) {
    const auto parsed = IpAddress::parse(address);
    EXPECT_TRUE(parsed.has_value()) << address;
    return policy.check(TransportAddress{*parsed, 5000});
}

PeerRefusal check_at(const PeerPolicy& policy, std::string_view address_and_port) {
    const auto parsed = TransportAddress::parse(address_and_port);
    EXPECT_TRUE(parsed.has_value()) << address_and_port;
    return policy.check(*parsed);
}

TEST(PeerPolicy, RefusesEverySpecialRangeByDefault) {
    const PeerPolicy policy;
    const struct {
        const char* address;
        PeerRefusal expected;
    } cases[] = {
        {"127.0.0.1", PeerRefusal::loopback},
        {"127.255.255.254", PeerRefusal::loopback},
        {"0.0.0.0", PeerRefusal::unspecified},
        {"169.254.169.254", PeerRefusal::metadata},
        {"169.254.1.1", PeerRefusal::link_local},
        {"10.1.2.3", PeerRefusal::private_range},
        {"172.16.0.1", PeerRefusal::private_range},
        {"172.31.255.255", PeerRefusal::private_range},
        {"192.168.1.1", PeerRefusal::private_range},
        {"100.64.0.1", PeerRefusal::cgnat},
        {"224.0.0.1", PeerRefusal::multicast},
        {"239.255.255.250", PeerRefusal::multicast},
        {"255.255.255.255", PeerRefusal::broadcast},
        {"240.0.0.1", PeerRefusal::reserved},
        {"::1", PeerRefusal::loopback},
        {"::", PeerRefusal::unspecified},
        {"fe80::1", PeerRefusal::link_local},
        {"fc00::1", PeerRefusal::unique_local},
        {"fd00::1", PeerRefusal::unique_local},
        {"ff02::1", PeerRefusal::multicast},
        {"fd00:ec2::254", PeerRefusal::metadata},
        // Azure's platform address, public and yet only the VM's (WireServer, DNS); Alibaba
        // Cloud's metadata service, inside CGNAT.
        {"168.63.129.16", PeerRefusal::metadata},
        {"100.100.100.200", PeerRefusal::metadata},
        {"::ffff:168.63.129.16", PeerRefusal::embedded_ipv4},
        {"64:ff9b::a83f:8110", PeerRefusal::embedded_ipv4},
        // IPv4 written inside IPv6: mapped, compatible, NAT64, 6to4.
        {"::ffff:127.0.0.1", PeerRefusal::embedded_ipv4},
        {"::ffff:169.254.169.254", PeerRefusal::embedded_ipv4},
        {"::127.0.0.1", PeerRefusal::embedded_ipv4},
        {"64:ff9b::7f00:1", PeerRefusal::embedded_ipv4},
        {"64:ff9b::a00:1", PeerRefusal::embedded_ipv4},
        {"2002:7f00:1::", PeerRefusal::embedded_ipv4},
        {"2002:c0a8:101::1", PeerRefusal::embedded_ipv4},
    };
    for (const auto& test : cases) {
        EXPECT_EQ(check(policy, test.address), test.expected) << test.address;
    }
}

TEST(PeerPolicy, PermitsPublicAddressesInEveryForm) {
    const PeerPolicy policy;
    for (const char* address :
         {"8.8.8.8", "1.1.1.1", "93.184.216.34", "168.63.129.15", "168.63.129.17",
          "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"}) {
        EXPECT_EQ(check(policy, address), PeerRefusal::none) << address;
    }
}

TEST(PeerPolicy, AllowListOpensARangeInEverySpelling) {
    const PeerPolicy policy({*AddressRange::parse("127.0.0.0/8")});
    EXPECT_EQ(check(policy, "127.0.0.1"), PeerRefusal::none);
    EXPECT_EQ(check(policy, "::ffff:127.0.0.1"), PeerRefusal::none);
    EXPECT_EQ(check(policy, "10.0.0.1"), PeerRefusal::private_range);
    EXPECT_EQ(check(policy, "::1"), PeerRefusal::loopback);
}

TEST(PeerPolicy, RefusesTheRelaysOwnAddresses) {
    PeerPolicy policy;
    policy.add_own_address(*IpAddress::parse("203.0.113.7"));
    policy.add_own_address(*IpAddress::parse("2001:db8::7"));
    EXPECT_EQ(check(policy, "203.0.113.7"), PeerRefusal::relay_self);
    EXPECT_EQ(check(policy, "::ffff:203.0.113.7"), PeerRefusal::relay_self);
    EXPECT_EQ(check(policy, "2001:db8::7"), PeerRefusal::relay_self);
}

// No allocation holds a relayed port.
const LiveRelayedPorts none_held;

// The policy of a relay whose allow-list covers its own addresses, as the demo's
// 127.0.0.0/8 does, or a 10.0.0.0/8 opened for a media server beside a relay on 10.0.0.5.
PeerPolicy relay_on_an_allowed_network() {
    PeerPolicy policy({*AddressRange::parse("127.0.0.0/8"), *AddressRange::parse("10.0.0.0/8")});
    for (const char* own : {"127.0.0.1", "10.0.0.5", "::1"}) {
        policy.add_own_address(*IpAddress::parse(own));
    }
    for (const std::uint16_t port : {3478, 5349, 9478}) {  // TURN listeners, the admin API
        policy.add_service_port(port);
    }
    policy.add_relayed_range(*IpAddress::parse("10.0.0.5"), 49152, 65535, none_held);
    return policy;
}

TEST(PeerPolicy, RefusesTheRelaysOwnPortsWhateverTheAllowList) {
    const auto policy = relay_on_an_allowed_network();
    // Every address the kernel delivers to this host: its own, all of 127/8, ::1 and the
    // unspecified address, in whichever spelling.
    for (const char* peer : {"127.0.0.1:9478", "127.0.0.1:3478", "127.9.9.9:9478", "0.0.0.0:3478",
                             "[::1]:9478", "[::]:3478", "[::ffff:127.0.0.1]:9478",
                             "[64:ff9b::7f00:1]:9478", "10.0.0.5:5349", "[::ffff:10.0.0.5]:3478"}) {
        EXPECT_EQ(check_at(policy, peer), PeerRefusal::relay_service) << peer;
    }
    // The same ports elsewhere are no business of this policy; other ports of the relay's
    // host follow the allow-list.
    for (const char* peer : {"10.0.0.6:9478", "8.8.8.8:3478", "127.0.0.1:5000", "10.0.0.5:22"}) {
        EXPECT_EQ(check_at(policy, peer), PeerRefusal::none) << peer;
    }
}

TEST(PeerPolicy, ThePortAloneRefusesASendToAPermittedAddress) {
    // A permission is for an address, any port (RFC 8656 §9): a Send to 127.0.0.1 with a
    // permission for it is checked on its port alone.
    const auto policy = relay_on_an_allowed_network();
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("127.0.0.1:9478")),
              PeerRefusal::relay_service);
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("10.0.0.5:3478")),
              PeerRefusal::relay_service);
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("127.0.0.1:5000")), PeerRefusal::none);
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("8.8.8.8:9478")), PeerRefusal::none);
}

TEST(PeerPolicy, AnotherAllocationOfThisRelayIsReachableWhereverTheRelaySits) {
    // Two clients of one relay, each behind a symmetric NAT, reach each other only through
    // each other's relayed addresses: a port an allocation holds is open, on a public relay
    // address (80.1.2.3) as on a private one (10.0.0.5), UDP or TCP (RFC 6062)...
    LiveRelayedPorts live;
    live.add(AddressFamily::ipv4, RelayProtocol::udp, 50000);
    live.add(AddressFamily::ipv4, RelayProtocol::tcp, 50002);
    live.add(AddressFamily::ipv6, RelayProtocol::udp, 50004);
    PeerPolicy policy;
    policy.add_relayed_range(*IpAddress::parse("80.1.2.3"), 49152, 65535, live);
    policy.add_relayed_range(*IpAddress::parse("10.0.0.5"), 49152, 65535, live);
    policy.add_service_port(3478);
    for (const char* peer : {"80.1.2.3:50000", "80.1.2.3:50002", "[::ffff:80.1.2.3]:50000",
                             "10.0.0.5:50000", "10.0.0.5:50002", "[::ffff:10.0.0.5]:50002"}) {
        EXPECT_EQ(check_at(policy, peer), PeerRefusal::none) << peer;
    }
    // ...while a port of the range no allocation holds is the host's: a co-located media
    // server or another process's ephemeral socket. So are the host's other ports, and an
    // IPv4 port held only by an IPv6 allocation.
    for (const char* peer : {"80.1.2.3:50001", "80.1.2.3:22", "80.1.2.3:49151", "80.1.2.3:50004",
                             "10.0.0.5:50001", "[::ffff:10.0.0.5]:50004"}) {
        EXPECT_EQ(check_at(policy, peer), PeerRefusal::relay_self) << peer;
    }
    EXPECT_EQ(check_at(policy, "80.1.2.3:3478"), PeerRefusal::relay_service);
    // The same port on a host that is not the relay is judged by its range.
    EXPECT_EQ(check_at(policy, "10.0.0.6:50000"), PeerRefusal::private_range);
    // The Send indication's check, on an address with a permission, follows the port.
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("10.0.0.5:50000")), PeerRefusal::none);
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("10.0.0.5:50001")),
              PeerRefusal::relay_self);

    // Once the allocation ends, its port is the host's again.
    live.remove(AddressFamily::ipv4, RelayProtocol::udp, 50000);
    EXPECT_EQ(check_at(policy, "80.1.2.3:50000"), PeerRefusal::relay_self);
    EXPECT_EQ(policy.check_port(*TransportAddress::parse("10.0.0.5:50000")),
              PeerRefusal::relay_self);
    EXPECT_EQ(check_at(policy, "80.1.2.3:50002"), PeerRefusal::none);  // the TCP one lives on
}

TEST(PeerPolicy, AnAllowListCoveringTheRelayOpensTheHostsOtherPorts) {
    // The operator's word, as coturn's allowed-peer-ip: a media server on the relay's host.
    EXPECT_EQ(check_at(relay_on_an_allowed_network(), "10.0.0.5:50000"), PeerRefusal::none);
    EXPECT_EQ(check_at(relay_on_an_allowed_network(), "10.0.0.5:8088"), PeerRefusal::none);
}

TEST(LiveRelayedPorts, TellsTheFamiliesApartAndEitherTransportHoldsAPort) {
    LiveRelayedPorts live;
    EXPECT_FALSE(live.contains(AddressFamily::ipv4, 0));
    EXPECT_FALSE(live.contains(AddressFamily::ipv4, 65535));
    live.add(AddressFamily::ipv4, RelayProtocol::udp, 65535);
    live.add(AddressFamily::ipv4, RelayProtocol::tcp, 65535);
    live.add(AddressFamily::ipv6, RelayProtocol::tcp, 64);
    EXPECT_TRUE(live.contains(AddressFamily::ipv4, 65535));
    EXPECT_FALSE(live.contains(AddressFamily::ipv4, 65534));
    EXPECT_FALSE(live.contains(AddressFamily::ipv6, 65535));
    EXPECT_TRUE(live.contains(AddressFamily::ipv6, 64));
    EXPECT_FALSE(live.contains(AddressFamily::ipv4, 64));
    // A UDP and a TCP allocation may hold the same number: the port stays held until both go.
    live.remove(AddressFamily::ipv4, RelayProtocol::udp, 65535);
    EXPECT_TRUE(live.contains(AddressFamily::ipv4, 65535));
    live.remove(AddressFamily::ipv4, RelayProtocol::tcp, 65535);
    EXPECT_FALSE(live.contains(AddressFamily::ipv4, 65535));
}

TEST(AddressRange, ParsesAndContains) {
    const auto range = AddressRange::parse("10.20.0.0/16");
    ASSERT_TRUE(range.has_value());
    EXPECT_TRUE(range->contains(*IpAddress::parse("10.20.30.40")));
    EXPECT_FALSE(range->contains(*IpAddress::parse("10.21.0.1")));
    EXPECT_FALSE(range->contains(*IpAddress::parse("::ffff:10.20.30.40")));  // other family
    EXPECT_EQ(AddressRange::parse("::1")->prefix_length, 128);
    EXPECT_EQ(AddressRange::parse("192.0.2.1")->prefix_length, 32);
    for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "::/129", "nonsense/8", "10.0.0.0/", ""}) {
        EXPECT_FALSE(AddressRange::parse(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace hearth::turn
