#pragma once

// STUN message header and attribute walk (RFC 8489 §5, §14). A MessageView is a
// validated, non-owning view over the bytes it was parsed from: no copies, no heap.

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

namespace hearth::stun {

using Bytes = std::span<const std::byte>;

constexpr std::uint32_t magic_cookie = 0x2112A442;
constexpr std::size_t header_size = 20;
constexpr std::size_t attribute_header_size = 4;
// The largest message hearth parses or builds; larger datagrams are refused outright.
constexpr std::size_t max_message_size = 4096;
// Bound on the attributes a message may carry; more is a malformed message.
constexpr std::size_t max_attributes = 32;

using TransactionId = std::array<std::byte, 12>;

enum class Method : std::uint16_t {
    binding = 0x001,
    allocate = 0x003,  // RFC 8656 §18
    refresh = 0x004,
    send = 0x006,
    data = 0x007,
    create_permission = 0x008,
    channel_bind = 0x009,
    connect = 0x00A,  // RFC 6062 §6.1
    connection_bind = 0x00B,
    connection_attempt = 0x00C,
};

enum class MessageClass : std::uint8_t {
    request = 0b00,
    indication = 0b01,
    success_response = 0b10,
    error_response = 0b11,
};

// Attribute types (RFC 8489 §18.3, RFC 8656 §18, RFC 6062 §6.2, RFC 8016).
namespace attribute {
constexpr std::uint16_t mapped_address = 0x0001;
constexpr std::uint16_t username = 0x0006;
constexpr std::uint16_t message_integrity = 0x0008;
constexpr std::uint16_t error_code = 0x0009;
constexpr std::uint16_t unknown_attributes = 0x000A;
constexpr std::uint16_t channel_number = 0x000C;
constexpr std::uint16_t lifetime = 0x000D;
constexpr std::uint16_t xor_peer_address = 0x0012;
constexpr std::uint16_t data = 0x0013;
constexpr std::uint16_t realm = 0x0014;
constexpr std::uint16_t nonce = 0x0015;
constexpr std::uint16_t xor_relayed_address = 0x0016;
constexpr std::uint16_t requested_address_family = 0x0017;
constexpr std::uint16_t even_port = 0x0018;
constexpr std::uint16_t requested_transport = 0x0019;
constexpr std::uint16_t dont_fragment = 0x001A;
constexpr std::uint16_t message_integrity_sha256 = 0x001C;
constexpr std::uint16_t password_algorithm = 0x001D;
constexpr std::uint16_t userhash = 0x001E;
constexpr std::uint16_t xor_mapped_address = 0x0020;
constexpr std::uint16_t reservation_token = 0x0022;
constexpr std::uint16_t priority = 0x0024;
constexpr std::uint16_t use_candidate = 0x0025;
constexpr std::uint16_t padding = 0x0026;
constexpr std::uint16_t response_port = 0x0027;
constexpr std::uint16_t connection_id = 0x002A;
constexpr std::uint16_t additional_address_family = 0x8000;
constexpr std::uint16_t address_error_code = 0x8001;
constexpr std::uint16_t password_algorithms = 0x8002;
constexpr std::uint16_t alternate_domain = 0x8003;
constexpr std::uint16_t icmp = 0x8004;
constexpr std::uint16_t software = 0x8022;
constexpr std::uint16_t alternate_server = 0x8023;
constexpr std::uint16_t transaction_transmit_counter = 0x8025;
constexpr std::uint16_t cache_timeout = 0x8027;
constexpr std::uint16_t fingerprint = 0x8028;
constexpr std::uint16_t ice_controlled = 0x8029;
constexpr std::uint16_t ice_controlling = 0x802A;
constexpr std::uint16_t response_origin = 0x802B;
constexpr std::uint16_t other_address = 0x802C;

// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required.
constexpr bool is_comprehension_required(std::uint16_t type) {
    return type < 0x8000;
}
// True for every type above that hearth understands.
bool is_known(std::uint16_t type);
}  // namespace attribute

enum class ParseError : std::uint8_t {
    too_short,                  // fewer than 20 bytes
    too_long,                   // over max_message_size
    not_stun,                   // top two bits set, or wrong magic cookie
    bad_length,                 // header length not a multiple of 4 or not the datagram size - 20
    truncated_attribute,        // an attribute (with its padding) runs past the end
    too_many_attributes,        // more than max_attributes
    attribute_after_integrity,  // RFC 8489 §14.5/§14.6/§14.7 ordering broken
    attribute_after_fingerprint,
};

const char* to_string(ParseError error);

struct RawAttribute {
    std::uint16_t type = 0;
    Bytes value;             // without padding
    std::size_t offset = 0;  // offset of the attribute header within the message
};

class MessageView {
  public:
    // Validates the header and walks every attribute. Unknown comprehension-required
    // attributes are not an error here: they are listed for the handler to answer 420.
    static std::expected<MessageView, ParseError> parse(Bytes datagram);

    Method method() const { return method_; }
    MessageClass message_class() const { return class_; }
    const TransactionId& transaction_id() const { return transaction_id_; }
    Bytes bytes() const { return bytes_; }

    // The first attribute of that type, if present (RFC 8489 §14: later duplicates ignored).
    std::optional<Bytes> find(std::uint16_t type) const;
    bool has(std::uint16_t type) const { return find(type).has_value(); }
    std::span<const RawAttribute> attributes() const { return {attributes_.data(), count_}; }
    std::span<const std::uint16_t> unknown_comprehension_required() const {
        return {unknown_.data(), unknown_count_};
    }

    // Offsets of the integrity and fingerprint attribute headers, if present.
    std::optional<std::size_t> message_integrity_offset() const;
    std::optional<std::size_t> message_integrity_sha256_offset() const;
    std::optional<std::size_t> fingerprint_offset() const;

  private:
    Bytes bytes_;
    Method method_ = Method::binding;
    MessageClass class_ = MessageClass::request;
    TransactionId transaction_id_{};
    std::array<RawAttribute, max_attributes> attributes_{};
    std::size_t count_ = 0;
    std::array<std::uint16_t, 8> unknown_{};  // the first 8 are enough to answer 420
    std::size_t unknown_count_ = 0;
};

// True if the bytes start like a STUN message (RFC 7983 §7: first byte 0-3, then cookie).
bool looks_like_stun(Bytes datagram);

// Method and class packed into the 14-bit message type (RFC 8489 §5).
std::uint16_t encode_message_type(Method method, MessageClass message_class);
void decode_message_type(std::uint16_t type, Method& method, MessageClass& message_class);

}  // namespace hearth::stun
