// Behind a 1:1 NAT the relay binds its private address and tells clients the public one
// (relay.external_ipv4): XOR-RELAYED-ADDRESS carries the public address and the bound port.

#include "relay/turn/advertised_address.h"

#include "tests/turn/turn_test_fixture.h"

namespace hearth::turn::testing {
namespace {

const IpAddress public_ipv4 = *IpAddress::parse("198.51.100.99");

TEST(AdvertisedAddresses, ReplaceTheAddressOfTheirFamilyAndKeepThePort) {
    const AdvertisedAddresses advertised{public_ipv4, std::nullopt};
    EXPECT_EQ(advertised.of(*TransportAddress::parse("10.0.0.5:50000")),
              *TransportAddress::parse("198.51.100.99:50000"));
    // No external IPv6 address: an IPv6 relayed address is told as bound.
    EXPECT_EQ(advertised.of(*TransportAddress::parse("[2001:db8::5]:50001")),
              *TransportAddress::parse("[2001:db8::5]:50001"));
    EXPECT_EQ(AdvertisedAddresses{}.of(*TransportAddress::parse("10.0.0.5:50000")),
              *TransportAddress::parse("10.0.0.5:50000"));
}

class AdvertisedAddressTest : public TurnServerTest {
  protected:
    void advertise(std::optional<IpAddress> ipv4, std::optional<IpAddress> ipv6) {
        ServerSettings settings;
        settings.advertised = {ipv4, ipv6};
        server_.apply(settings, PeerPolicy{});
    }
    TransportAddress relayed(const Answer& answer) {
        const auto message = answer.message();
        return *stun::decode_xor_address(*message.find(stun::attribute::xor_relayed_address),
                                         message.transaction_id());
    }
};

TEST_F(AdvertisedAddressTest, AllocateAnswersWithThePublicAddressAndTheBoundPort) {
    advertise(public_ipv4, std::nullopt);
    const auto answer = allocate();
    ASSERT_TRUE(answer.is_success()) << answer.error_code();
    EXPECT_EQ(relayed(answer), (TransportAddress{public_ipv4, relay_port_base}));
    // The relay still sends and receives on what it bound (the fake binds 203.0.113.5).
    const auto* bound = server_.find(tuple())->relay_for(AddressFamily::ipv4);
    ASSERT_NE(bound, nullptr);
    EXPECT_EQ(bound->address, *TransportAddress::parse("203.0.113.5:50000"));
}

TEST_F(AdvertisedAddressTest, WithoutAnExternalAddressTheBoundOneIsTold) {
    const auto answer = allocate();
    ASSERT_TRUE(answer.is_success()) << answer.error_code();
    EXPECT_EQ(relayed(answer), *TransportAddress::parse("203.0.113.5:50000"));
}

}  // namespace
}  // namespace hearth::turn::testing
