// Every trick a reviewer would try against the peer policy (DESIGN.md "Security defaults").

#include "relay/turn/peer_policy.h"

#include <gtest/gtest.h>

namespace hearth::turn {
namespace {

PeerRefusal check(const PeerPolicy& policy, std::string_view address) {
    const auto parsed = IpAddress::parse(address);
    EXPECT_TRUE(parsed.has_value()) << address;
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
    EXPECT_EQ(check(policy, "::ffff:203.0.113.7"), PeerRefusal::embedded_ipv4);
    EXPECT_NE(check(policy, "2001:db8::7"), PeerRefusal::none);
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
