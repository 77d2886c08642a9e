// IP and transport addresses: text, sockaddr and hashing.

#include "relay/stun/transport_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace hearth {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
    const auto v4 = IpAddress::parse("192.0.2.1");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->family, AddressFamily::ipv4);
    EXPECT_EQ(v4->size(), 4u);
    EXPECT_EQ(*v4, IpAddress::v4(0xC0000201));

    const auto v6 = IpAddress::parse("2001:db8::1");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->family, AddressFamily::ipv6);
    EXPECT_EQ(v6->size(), 16u);
    EXPECT_EQ(*v6, IpAddress::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(IpAddress, RejectsWhatIsNotAnAddress) {
    for (const auto* text :
         {"", "192.0.2", "192.0.2.256", "example.org", "2001:db8:::1", "[2001:db8::1]",
          " 192.0.2.1", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000"}) {
        EXPECT_FALSE(IpAddress::parse(text).has_value()) << text;
    }
}

TEST(IpAddress, RefusesTextWithAnEmbeddedNul) {
    using namespace std::string_view_literals;
    EXPECT_FALSE(IpAddress::parse("127.0.0.1\0garbage"sv).has_value());
    EXPECT_FALSE(IpAddress::parse(std::string_view{}).has_value());
}

TEST(IpAddress, PrintsCanonically) {
    EXPECT_EQ(IpAddress::parse("192.0.2.1")->to_string(), "192.0.2.1");
    EXPECT_EQ(IpAddress::parse("2001:0db8:0000::0001")->to_string(), "2001:db8::1");
}

TEST(TransportAddress, ParsesAndPrints) {
    for (const auto* text : {"192.0.2.1:3478", "0.0.0.0:0", "255.255.255.255:65535",
                             "[2001:db8::1]:443", "[::]:0", "[::ffff:192.0.2.1]:5"}) {
        const auto address = TransportAddress::parse(text);
        ASSERT_TRUE(address.has_value()) << text;
        EXPECT_EQ(address->to_string(), text);
    }
    EXPECT_EQ(TransportAddress::parse("192.0.2.1:3478")->port, 3478);
}

TEST(TransportAddress, RejectsMalformedText) {
    for (const auto* text : {"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:123456",
                             "192.0.2.1:-1", "192.0.2.1:3x", "[2001:db8::1]", "[2001:db8::1]443",
                             "[2001:db8::1:443", "host.example:80", ":80"}) {
        EXPECT_FALSE(TransportAddress::parse(text).has_value()) << text;
    }
}

TEST(TransportAddress, RoundTripsThroughSockaddr) {
    for (const auto* text : {"192.0.2.1:3478", "[2001:db8::1]:443"}) {
        const auto address = *TransportAddress::parse(text);
        sockaddr_storage storage{};
        const socklen_t length = address.to_sockaddr(storage);
        EXPECT_EQ(
            TransportAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length),
            address)
            << text;
    }
}

TEST(TransportAddress, WritesNetworkByteOrder) {
    sockaddr_storage storage{};
    ASSERT_EQ(TransportAddress::parse("192.0.2.1:3478")->to_sockaddr(storage), sizeof(sockaddr_in));
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    EXPECT_EQ(v4->sin_family, AF_INET);
    EXPECT_EQ(ntohs(v4->sin_port), 3478);
    EXPECT_EQ(ntohl(v4->sin_addr.s_addr), 0xC0000201u);
}

TEST(TransportAddress, RefusesShortOrForeignSockaddrs) {
    sockaddr_storage storage{};
    const socklen_t length = TransportAddress::parse("[2001:db8::1]:443")->to_sockaddr(storage);
    const auto* address = reinterpret_cast<const sockaddr*>(&storage);
    EXPECT_FALSE(TransportAddress::from_sockaddr(address, length - 1).has_value());
    storage.ss_family = AF_UNIX;
    EXPECT_FALSE(TransportAddress::from_sockaddr(address, length).has_value());
}

TEST(TransportAddressHash, EqualAddressesHashEqual) {
    const TransportAddressHash hash;
    const auto a = *TransportAddress::parse("192.0.2.1:3478");
    EXPECT_EQ(hash(a), hash(*TransportAddress::parse("192.0.2.1:3478")));

    std::unordered_set<TransportAddress, TransportAddressHash> set;
    for (const auto* text : {"192.0.2.1:3478", "192.0.2.1:3479", "192.0.2.2:3478",
                             "[2001:db8::1]:3478", "[::ffff:192.0.2.1]:3478", "192.0.2.1:3478"}) {
        set.insert(*TransportAddress::parse(text));
    }
    EXPECT_EQ(set.size(), 5u);
}

}  // namespace
}  // namespace hearth
