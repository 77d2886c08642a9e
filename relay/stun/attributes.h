#pragma once

// Decoders for the attribute values hearth reads (RFC 8489 §14, RFC 8656 §18).
// Each returns nullopt for a value of the wrong size or shape.

#include <cstdint>
#include <optional>
#include <string_view>

#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"

namespace hearth::stun {

// RFC 8489 §14.2 (and §14.1 for the plain MAPPED-ADDRESS when `xored` is false).
std::optional<TransportAddress> decode_xor_address(Bytes value,
                                                   const TransactionId& transaction_id);
std::optional<TransportAddress> decode_address(Bytes value);

// Encodes the XOR form into `out` (8 or 20 bytes) and returns the length used.
std::size_t encode_xor_address(const TransportAddress& address, const TransactionId& transaction_id,
                               std::span<std::byte, 20> out);

std::optional<std::uint32_t> decode_u32(Bytes value);

// RFC 8656 §18.1: channel number in the first two bytes, RFFU after.
std::optional<std::uint16_t> decode_channel_number(Bytes value);

// RFC 8656 §18.6: protocol number in the first byte (17 = UDP, 6 = TCP).
std::optional<std::uint8_t> decode_requested_transport(Bytes value);

// RFC 8656 §18.5 REQUESTED-ADDRESS-FAMILY and §18.12 ADDITIONAL-ADDRESS-FAMILY.
// Returns nullopt for any family byte but 0x01 and 0x02.
std::optional<AddressFamily> decode_address_family(Bytes value);

struct ErrorCode {
    int code = 0;
    std::string_view reason;
};
std::optional<ErrorCode> decode_error_code(Bytes value);

// Text attributes with their RFC 8489 bounds: USERNAME < 513 bytes, REALM, NONCE and
// SOFTWARE < 763 bytes. The view points into the message.
std::optional<std::string_view> decode_username(Bytes value);
std::optional<std::string_view> decode_realm(Bytes value);
std::optional<std::string_view> decode_nonce(Bytes value);
std::optional<std::string_view> decode_software(Bytes value);

}  // namespace hearth::stun
