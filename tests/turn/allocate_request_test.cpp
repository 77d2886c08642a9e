// An Allocate request's attributes read on their own, before any admission
// (RFC 8656 §7.2, RFC 6062 §5.1).

#include "relay/turn/allocate_request.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "relay/stun/message_builder.h"

namespace hearth::turn {
namespace {

namespace attribute = stun::attribute;

struct Attribute {
    std::uint16_t type;
    std::vector<std::byte> value;
};

std::vector<std::byte> first_byte(std::uint8_t value) {
    return {std::byte{value}, {}, {}, {}};
}

const Attribute udp{attribute::requested_transport, first_byte(17)};
const Attribute tcp{attribute::requested_transport, first_byte(6)};
const Attribute sctp{attribute::requested_transport, first_byte(132)};
const Attribute short_transport{attribute::requested_transport, {std::byte{17}, {}}};
const Attribute requested_ipv4{attribute::requested_address_family, first_byte(1)};
const Attribute requested_ipv6{attribute::requested_address_family, first_byte(2)};
const Attribute requested_unknown{attribute::requested_address_family, first_byte(9)};
const Attribute additional_ipv4{attribute::additional_address_family, first_byte(1)};
const Attribute additional_ipv6{attribute::additional_address_family, first_byte(2)};
const Attribute additional_unknown{attribute::additional_address_family, first_byte(9)};
const Attribute reservation{attribute::reservation_token, std::vector<std::byte>(8)};
const Attribute even_port{attribute::even_port, {std::byte{0x80}}};

std::expected<AllocateRequest, RequestRefusal> read(const std::vector<Attribute>& attributes,
                                                    ClientTransport over) {
    std::array<std::byte, 512> buffer{};
    stun::MessageBuilder builder(buffer, stun::Method::allocate, stun::MessageClass::request,
                                 stun::TransactionId{});
    for (const auto& [type, value] : attributes) {
        builder.add(type, value);
    }
    const auto message = stun::MessageView::parse(builder.finish());
    EXPECT_TRUE(message.has_value());
    return read_allocate_request(*message, over);
}

TEST(AllocateRequest, EachAttributeErrorGetsItsCodeAndReason) {
    struct Case {
        const char* name;
        std::vector<Attribute> attributes;
        ClientTransport over;
        TurnError error;
        std::string_view why;
    };
    constexpr auto over_udp = ClientTransport::udp;
    constexpr auto over_tcp = ClientTransport::tcp;
    const std::vector<Case> cases = {
        {"no REQUESTED-TRANSPORT", {}, over_udp, TurnError::bad_request, "no REQUESTED-TRANSPORT"},
        {"REQUESTED-TRANSPORT of two bytes",
         {short_transport},
         over_udp,
         TurnError::bad_request,
         "malformed REQUESTED-TRANSPORT"},
        {"an SCTP relay",
         {sctp},
         over_udp,
         TurnError::unsupported_transport_protocol,
         "relays are UDP or TCP"},
        {"a TCP relay over UDP (RFC 6062 §5.1)",
         {tcp},
         over_udp,
         TurnError::bad_request,
         "TCP relays need a TCP client"},
        {"a dual TCP relay",
         {tcp, additional_ipv6},
         over_tcp,
         TurnError::bad_request,
         "no dual TCP allocations"},
        {"RESERVATION-TOKEN with REQUESTED-ADDRESS-FAMILY",
         {udp, reservation, requested_ipv4},
         over_udp,
         TurnError::bad_request,
         "RESERVATION-TOKEN with a family or EVEN-PORT"},
        {"RESERVATION-TOKEN with ADDITIONAL-ADDRESS-FAMILY",
         {udp, reservation, additional_ipv6},
         over_udp,
         TurnError::bad_request,
         "RESERVATION-TOKEN with a family or EVEN-PORT"},
        {"RESERVATION-TOKEN with EVEN-PORT",
         {udp, reservation, even_port},
         over_udp,
         TurnError::bad_request,
         "RESERVATION-TOKEN with a family or EVEN-PORT"},
        {"a RESERVATION-TOKEN hearth never gave",
         {udp, reservation},
         over_udp,
         TurnError::insufficient_capacity,
         "unknown reservation"},
        {"both family attributes",
         {udp, requested_ipv4, additional_ipv6},
         over_udp,
         TurnError::bad_request,
         "REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together"},
        {"an unknown REQUESTED-ADDRESS-FAMILY",
         {udp, requested_unknown},
         over_udp,
         TurnError::address_family_not_supported,
         "unknown address family"},
        {"ADDITIONAL-ADDRESS-FAMILY asking for IPv4",
         {udp, additional_ipv4},
         over_udp,
         TurnError::bad_request,
         "ADDITIONAL-ADDRESS-FAMILY must be IPv6"},
        {"an unknown ADDITIONAL-ADDRESS-FAMILY",
         {udp, additional_unknown},
         over_udp,
         TurnError::bad_request,
         "ADDITIONAL-ADDRESS-FAMILY must be IPv6"},
        // The first error wins, in the order above.
        {"an SCTP relay with a reservation",
         {sctp, reservation},
         over_udp,
         TurnError::unsupported_transport_protocol,
         "relays are UDP or TCP"},
        {"a reservation with both families",
         {udp, reservation, requested_ipv4, additional_ipv6},
         over_udp,
         TurnError::bad_request,
         "RESERVATION-TOKEN with a family or EVEN-PORT"},
    };
    for (const auto& test : cases) {
        const auto result = read(test.attributes, test.over);
        ASSERT_FALSE(result.has_value()) << test.name;
        EXPECT_EQ(result.error().error, test.error) << test.name;
        EXPECT_EQ(result.error().why, test.why) << test.name;
    }
}

TEST(AllocateRequest, APlainRequestIsAUdpRelayOfIpv4WithTheDefaultLifetime) {
    const auto request = read({udp}, ClientTransport::udp);
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->transport, RelayProtocol::udp);
    EXPECT_EQ(request->family, AddressFamily::ipv4);
    EXPECT_FALSE(request->dual);
    EXPECT_FALSE(request->even_port);
    EXPECT_FALSE(request->lifetime.has_value());
}

TEST(AllocateRequest, TcpRelaysOverTcpAndTls) {
    for (const auto over : {ClientTransport::tcp, ClientTransport::tls}) {
        const auto request = read({tcp}, over);
        ASSERT_TRUE(request.has_value()) << to_string(over);
        EXPECT_EQ(request->transport, RelayProtocol::tcp);
    }
}

TEST(AllocateRequest, ReadsFamiliesEvenPortAndLifetime) {
    EXPECT_EQ(read({udp, requested_ipv6}, ClientTransport::udp)->family, AddressFamily::ipv6);
    EXPECT_EQ(read({udp, requested_ipv4}, ClientTransport::udp)->family, AddressFamily::ipv4);

    const auto dual = read({udp, additional_ipv6}, ClientTransport::udp);
    ASSERT_TRUE(dual.has_value());
    EXPECT_TRUE(dual->dual);
    EXPECT_EQ(dual->family, AddressFamily::ipv4);

    EXPECT_TRUE(read({udp, even_port}, ClientTransport::udp)->even_port);

    const Attribute lifetime{attribute::lifetime, {{}, {}, std::byte{0x04}, std::byte{0xB0}}};
    EXPECT_EQ(read({udp, lifetime}, ClientTransport::udp)->lifetime, Seconds{1200});
    // A malformed LIFETIME counts as none: the default applies.
    const Attribute short_lifetime{attribute::lifetime, {std::byte{0x04}, std::byte{0xB0}}};
    const auto malformed = read({udp, short_lifetime}, ClientTransport::udp);
    ASSERT_TRUE(malformed.has_value());
    EXPECT_FALSE(malformed->lifetime.has_value());
}

}  // namespace
}  // namespace hearth::turn
