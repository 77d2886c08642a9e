#include "relay/turn/allocate_request.h"

#include "relay/stun/attributes.h"
#include "relay/turn/lifetime.h"

namespace hearth::turn {

namespace attribute = stun::attribute;

namespace {

// REQUESTED-TRANSPORT carries an IANA protocol number (RFC 8656 §18.6).
constexpr std::uint8_t protocol_udp = 17;
constexpr std::uint8_t protocol_tcp = 6;

std::expected<RelayProtocol, RequestRefusal> read_requested_transport(
    const stun::MessageView& message, ClientTransport client_transport) {
    const auto value = message.find(attribute::requested_transport);
    if (!value) {
        return std::unexpected(RequestRefusal{TurnError::bad_request, "no REQUESTED-TRANSPORT"});
    }
    const auto transport = stun::decode_requested_transport(*value);
    if (!transport) {
        return std::unexpected(
            RequestRefusal{TurnError::bad_request, "malformed REQUESTED-TRANSPORT"});
    }
    if (*transport != protocol_udp && *transport != protocol_tcp) {
        return std::unexpected(
            RequestRefusal{TurnError::unsupported_transport_protocol, "relays are UDP or TCP"});
    }
    // RFC 6062 §5.1: a TCP allocation is made over a TCP or TLS connection only.
    if (*transport == protocol_tcp && client_transport == ClientTransport::udp) {
        return std::unexpected(
            RequestRefusal{TurnError::bad_request, "TCP relays need a TCP client"});
    }
    return *transport == protocol_tcp ? RelayProtocol::tcp : RelayProtocol::udp;
}

}  // namespace

std::expected<AllocateRequest, RequestRefusal> read_allocate_request(
    const stun::MessageView& message, ClientTransport client_transport) {
    const auto transport = read_requested_transport(message, client_transport);
    if (!transport) {
        return std::unexpected(transport.error());
    }
    const auto requested_family = message.find(attribute::requested_address_family);
    const auto additional_family = message.find(attribute::additional_address_family);
    if (*transport == RelayProtocol::tcp && additional_family) {
        return std::unexpected(RequestRefusal{TurnError::bad_request, "no dual TCP allocations"});
    }
    AllocateRequest request{*transport, AddressFamily::ipv4, false,
                            message.has(attribute::even_port), requested_lifetime(message)};
    if (message.has(attribute::reservation_token)) {
        if (requested_family || additional_family || request.even_port) {
            return std::unexpected(RequestRefusal{TurnError::bad_request,
                                                  "RESERVATION-TOKEN with a family or EVEN-PORT"});
        }
        // hearth never hands out reservations, so no token can be valid.
        return std::unexpected(
            RequestRefusal{TurnError::insufficient_capacity, "unknown reservation"});
    }
    if (requested_family && additional_family) {
        return std::unexpected(RequestRefusal{TurnError::bad_request,
                                              "REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together"});
    }
    if (requested_family) {
        const auto family = stun::decode_address_family(*requested_family);
        if (!family) {
            return std::unexpected(
                RequestRefusal{TurnError::address_family_not_supported, "unknown address family"});
        }
        request.family = *family;
    }
    if (additional_family) {
        // RFC 8656 §7.2: ADDITIONAL-ADDRESS-FAMILY may only ask for IPv6.
        const auto family = stun::decode_address_family(*additional_family);
        if (!family || *family != AddressFamily::ipv6) {
            return std::unexpected(
                RequestRefusal{TurnError::bad_request, "ADDITIONAL-ADDRESS-FAMILY must be IPv6"});
        }
        request.dual = true;
    }
    return request;
}

}  // namespace hearth::turn
