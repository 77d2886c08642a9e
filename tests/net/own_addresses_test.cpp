#include "relay/net/own_addresses.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace hearth::relay {
namespace {

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

TransportAddress at(const char* text, std::uint16_t port) {
    return {ip(text), port};
}

bool contains(const std::vector<IpAddress>& addresses, const char* text) {
    return std::ranges::find(addresses, ip(text)) != addresses.end();
}

TEST(OwnAddresses, EveryListenerTheAdminApiAndTheRelayAddressesAreOwn) {
    config::Config config;
    config.listen.udp = {at("198.51.100.1", 3478)};
    config.listen.tcp = {at("198.51.100.2", 3478)};
    config.listen.tls = {at("198.51.100.3", 443)};
    config.admin.listen = at("10.0.0.4", 9478);
    config.relay.ipv4 = ip("198.51.100.5");
    config.relay.ipv6 = ip("2001:db8::6");
    const std::vector<IpAddress> host{};
    const auto own = own_addresses(config, host);
    for (const char* address : {"198.51.100.1", "198.51.100.2", "198.51.100.3", "10.0.0.4",
                                "198.51.100.5", "2001:db8::6"}) {
        EXPECT_TRUE(contains(own, address)) << address;
    }
    EXPECT_EQ(own.size(), 6u);
}

TEST(OwnAddresses, EveryHostAddressIsOwnWhenNoListenerIsAWildcard) {
    config::Config config;
    config.listen.udp = {at("198.51.100.1", 3478)};
    config.listen.tcp = {at("198.51.100.1", 3478)};
    config.admin.listen = at("127.0.0.1", 9478);
    config.relay.ipv4 = ip("198.51.100.1");
    // sshd, a metrics agent or Redis listen on the host's other addresses all the same.
    const std::vector<IpAddress> host{ip("198.51.100.1"), ip("10.0.0.9"), ip("127.0.0.1"),
                                      ip("fe80::1"), ip("2001:db8::9")};
    const auto own = own_addresses(config, host);
    for (const char* address :
         {"198.51.100.1", "10.0.0.9", "127.0.0.1", "fe80::1", "2001:db8::9"}) {
        EXPECT_TRUE(contains(own, address)) << address;
    }
    EXPECT_EQ(own.size(), 5u);
}

TEST(OwnAddresses, AWildcardListenerMakesEveryHostAddressOwn) {
    config::Config config;
    config.listen.udp = {at("0.0.0.0", 3478)};
    config.listen.tls = {at("::", 5349)};
    config.admin.listen.reset();
    config.relay.ipv4 = ip("198.51.100.5");
    const std::vector<IpAddress> host{ip("198.51.100.5"), ip("203.0.113.8"), ip("2001:db8::8")};
    const auto own = own_addresses(config, host);
    EXPECT_TRUE(contains(own, "203.0.113.8"));
    EXPECT_TRUE(contains(own, "2001:db8::8"));
    EXPECT_FALSE(contains(own, "0.0.0.0"));  // refused as unspecified, not listed
    EXPECT_EQ(own.size(), 3u);               // 198.51.100.5 once
}

TEST(ServicePorts, EveryListenerTheAdminApiAndRedisWhenItIsTheStore) {
    config::Config config;
    config.listen.udp = {at("0.0.0.0", 3478), at("0.0.0.0", 3479)};
    config.listen.tcp = {at("0.0.0.0", 3478)};
    config.listen.tls = {at("0.0.0.0", 443)};
    config.admin.listen = at("127.0.0.1", 9478);
    EXPECT_EQ(service_ports(config), (std::vector<std::uint16_t>{3478, 3479, 443, 9478}));
    config.session_store.kind = config::StoreKind::redis;
    config.session_store.redis.port = 6380;
    config.admin.listen.reset();
    EXPECT_EQ(service_ports(config), (std::vector<std::uint16_t>{3478, 3479, 443, 6380}));
}

TEST(TcpDeniedPorts, MailByDefaultAndTheAdminApisPortAlways) {
    config::Config config;
    EXPECT_EQ(tcp_denied_ports(config), (std::vector<std::uint16_t>{25, 465, 587, 9478}));
    config.relay.tcp_denied_ports = {};
    config.admin.listen = at("127.0.0.1", 8080);
    EXPECT_EQ(tcp_denied_ports(config), (std::vector<std::uint16_t>{8080}));
    config.admin.listen.reset();  // no admin API
    EXPECT_TRUE(tcp_denied_ports(config).empty());
}

TEST(OwnAddresses, TheHostHasAddressesToReadIncludingLoopback) {
    const auto addresses = host_addresses();
    EXPECT_TRUE(contains(addresses, "127.0.0.1"));
}

}  // namespace
}  // namespace hearth::relay
