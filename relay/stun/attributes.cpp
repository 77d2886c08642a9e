#include "relay/stun/attributes.h"

#include <cstring>

namespace hearth::stun {

namespace {

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

// The 16 bytes an IPv6 address is XORed with: magic cookie then transaction ID.
std::array<std::uint8_t, 16> xor_pad(const TransactionId& transaction_id) {
    std::array<std::uint8_t, 16> pad{0x21, 0x12, 0xA4, 0x42};
    std::memcpy(pad.data() + 4, transaction_id.data(), transaction_id.size());
    return pad;
}

std::optional<std::string_view> bounded_text(Bytes value, std::size_t limit) {
    if (value.size() >= limit) {
        return std::nullopt;
    }
    return std::string_view(reinterpret_cast<const char*>(value.data()), value.size());
}

// RFC 8489 §14.1: the first byte is reserved, sent as zero and ignored on receipt.
std::optional<TransportAddress> address_value(Bytes value, const TransactionId* transaction_id) {
    if (value.size() < 4) {
        return std::nullopt;
    }
    const auto family = std::to_integer<std::uint8_t>(value[1]);
    const std::size_t address_length = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
    if (address_length == 0 || value.size() != 4 + address_length) {
        return std::nullopt;
    }
    TransportAddress address;
    address.ip.family = static_cast<AddressFamily>(family);
    address.port = read_u16(value.data() + 2);
    std::memcpy(address.ip.bytes.data(), value.data() + 4, address_length);
    if (transaction_id != nullptr) {
        const auto pad = xor_pad(*transaction_id);
        address.port ^= static_cast<std::uint16_t>(magic_cookie >> 16);
        for (std::size_t i = 0; i < address_length; ++i) {
            address.ip.bytes[i] ^= pad[i];
        }
    }
    return address;
}

}  // namespace

std::optional<TransportAddress> decode_xor_address(Bytes value,
                                                   const TransactionId& transaction_id) {
    return address_value(value, &transaction_id);
}

std::optional<TransportAddress> decode_address(Bytes value) {
    return address_value(value, nullptr);
}

std::size_t encode_xor_address(const TransportAddress& address, const TransactionId& transaction_id,
                               std::span<std::byte, 20> out) {
    const std::size_t address_length = address.ip.size();
    const auto pad = xor_pad(transaction_id);
    const std::uint16_t port = address.port ^ static_cast<std::uint16_t>(magic_cookie >> 16);
    out[0] = std::byte{0};
    out[1] = static_cast<std::byte>(address.ip.family);
    out[2] = static_cast<std::byte>(port >> 8);
    out[3] = static_cast<std::byte>(port);
    for (std::size_t i = 0; i < address_length; ++i) {
        out[4 + i] = static_cast<std::byte>(address.ip.bytes[i] ^ pad[i]);
    }
    return 4 + address_length;
}

std::optional<std::uint32_t> decode_u32(Bytes value) {
    if (value.size() != 4) {
        return std::nullopt;
    }
    return (static_cast<std::uint32_t>(read_u16(value.data())) << 16) | read_u16(value.data() + 2);
}

std::optional<std::uint16_t> decode_channel_number(Bytes value) {
    if (value.size() != 4) {
        return std::nullopt;
    }
    return read_u16(value.data());
}

std::optional<std::uint8_t> decode_requested_transport(Bytes value) {
    if (value.size() != 4) {
        return std::nullopt;
    }
    return std::to_integer<std::uint8_t>(value[0]);
}

std::optional<AddressFamily> decode_address_family(Bytes value) {
    if (value.size() != 4) {
        return std::nullopt;
    }
    const auto family = std::to_integer<std::uint8_t>(value[0]);
    if (family != 0x01 && family != 0x02) {
        return std::nullopt;
    }
    return static_cast<AddressFamily>(family);
}

std::optional<ErrorCode> decode_error_code(Bytes value) {
    if (value.size() < 4 || value.size() > 4 + 763) {
        return std::nullopt;
    }
    const int error_class = std::to_integer<int>(value[2]) & 0x7;
    const int number = std::to_integer<int>(value[3]);
    const int code = error_class * 100 + number;
    if (error_class < 3 || error_class > 6 || number > 99) {
        return std::nullopt;
    }
    return ErrorCode{
        code, std::string_view(reinterpret_cast<const char*>(value.data()) + 4, value.size() - 4)};
}

// RFC 8489 §14.3, §14.9, §14.10, §14.14: the byte bounds of the text attributes.
std::optional<std::string_view> decode_username(Bytes value) {
    return bounded_text(value, 513);
}
std::optional<std::string_view> decode_realm(Bytes value) {
    return bounded_text(value, 763);
}
std::optional<std::string_view> decode_nonce(Bytes value) {
    return bounded_text(value, 763);
}
std::optional<std::string_view> decode_software(Bytes value) {
    return bounded_text(value, 763);
}

}  // namespace hearth::stun
