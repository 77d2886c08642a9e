#include "relay/stun/message.h"

#include <algorithm>

namespace hearth::stun {

namespace {

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

std::uint32_t read_u32(const std::byte* bytes) {
    return (static_cast<std::uint32_t>(read_u16(bytes)) << 16) | read_u16(bytes + 2);
}

constexpr std::size_t padded(std::size_t length) {
    return (length + 3) & ~std::size_t{3};
}

constexpr std::uint16_t known_types[] = {
    attribute::mapped_address,
    attribute::username,
    attribute::message_integrity,
    attribute::error_code,
    attribute::unknown_attributes,
    attribute::channel_number,
    attribute::lifetime,
    attribute::xor_peer_address,
    attribute::data,
    attribute::realm,
    attribute::nonce,
    attribute::xor_relayed_address,
    attribute::requested_address_family,
    attribute::even_port,
    attribute::requested_transport,
    attribute::dont_fragment,
    attribute::message_integrity_sha256,
    attribute::password_algorithm,
    attribute::userhash,
    attribute::xor_mapped_address,
    attribute::reservation_token,
    attribute::priority,
    attribute::use_candidate,
    attribute::padding,
    attribute::response_port,
    attribute::connection_id,
    attribute::additional_address_family,
    attribute::address_error_code,
    attribute::password_algorithms,
    attribute::alternate_domain,
    attribute::icmp,
    attribute::software,
    attribute::alternate_server,
    attribute::transaction_transmit_counter,
    attribute::cache_timeout,
    attribute::fingerprint,
    attribute::ice_controlled,
    attribute::ice_controlling,
    attribute::response_origin,
    attribute::other_address,
};

}  // namespace

bool attribute::is_known(std::uint16_t type) {
    return std::find(std::begin(known_types), std::end(known_types), type) != std::end(known_types);
}

const char* to_string(ParseError error) {
    switch (error) {
        case ParseError::too_short:
            return "shorter than a STUN header";
        case ParseError::too_long:
            return "longer than the largest accepted message";
        case ParseError::not_stun:
            return "not a STUN message";
        case ParseError::bad_length:
            return "length field does not match the message";
        case ParseError::truncated_attribute:
            return "attribute runs past the end";
        case ParseError::too_many_attributes:
            return "too many attributes";
        case ParseError::attribute_after_integrity:
            return "attribute after MESSAGE-INTEGRITY";
        case ParseError::attribute_after_fingerprint:
            return "attribute after FINGERPRINT";
    }
    return "?";
}

std::uint16_t encode_message_type(Method method, MessageClass message_class) {
    // RFC 8489 §5: M11..M7 C1 M6..M4 C0 M3..M0.
    const auto m = static_cast<std::uint16_t>(method);
    const auto c = static_cast<std::uint16_t>(message_class);
    return static_cast<std::uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                                      ((c & 0x1) << 4) | ((c & 0x2) << 7));
}

void decode_message_type(std::uint16_t type, Method& method, MessageClass& message_class) {
    method = static_cast<Method>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
    message_class = static_cast<MessageClass>(((type & 0x0010) >> 4) | ((type & 0x0100) >> 7));
}

bool looks_like_stun(Bytes datagram) {
    return datagram.size() >= header_size && (std::to_integer<unsigned>(datagram[0]) & 0xC0) == 0 &&
           read_u32(datagram.data() + 4) == magic_cookie;
}

std::expected<MessageView, ParseError> MessageView::parse(Bytes datagram) {
    if (datagram.size() < header_size) {
        return std::unexpected(ParseError::too_short);
    }
    if (datagram.size() > max_message_size) {
        return std::unexpected(ParseError::too_long);
    }
    if ((std::to_integer<unsigned>(datagram[0]) & 0xC0) != 0 ||
        read_u32(datagram.data() + 4) != magic_cookie) {
        return std::unexpected(ParseError::not_stun);
    }
    const std::size_t length = read_u16(datagram.data() + 2);
    if (length % 4 != 0 || length != datagram.size() - header_size) {
        return std::unexpected(ParseError::bad_length);
    }

    MessageView view;
    view.bytes_ = datagram;
    decode_message_type(read_u16(datagram.data()), view.method_, view.class_);
    std::copy_n(datagram.begin() + 8, view.transaction_id_.size(), view.transaction_id_.begin());

    // RFC 8489 §14.5-§14.7: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
    // FINGERPRINT may follow, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT, and
    // FINGERPRINT is last. hearth refuses anything else rather than ignoring it.
    enum class Stage { open, after_sha1, after_sha256, after_fingerprint } stage = Stage::open;
    std::size_t offset = header_size;
    while (offset < datagram.size()) {
        if (datagram.size() - offset < attribute_header_size) {
            return std::unexpected(ParseError::truncated_attribute);
        }
        const std::uint16_t type = read_u16(datagram.data() + offset);
        const std::size_t value_length = read_u16(datagram.data() + offset + 2);
        const std::size_t value_offset = offset + attribute_header_size;
        if (padded(value_length) > datagram.size() - value_offset) {
            return std::unexpected(ParseError::truncated_attribute);
        }
        if (stage == Stage::after_fingerprint) {
            return std::unexpected(ParseError::attribute_after_fingerprint);
        }
        if (type == attribute::fingerprint) {
            stage = Stage::after_fingerprint;
        } else if (type == attribute::message_integrity_sha256) {
            if (stage == Stage::after_sha256) {
                return std::unexpected(ParseError::attribute_after_integrity);
            }
            stage = Stage::after_sha256;
        } else if (type == attribute::message_integrity) {
            if (stage != Stage::open) {
                return std::unexpected(ParseError::attribute_after_integrity);
            }
            stage = Stage::after_sha1;
        } else if (stage != Stage::open) {
            return std::unexpected(ParseError::attribute_after_integrity);
        }
        if (view.count_ == max_attributes) {
            return std::unexpected(ParseError::too_many_attributes);
        }
        view.attributes_[view.count_++] =
            RawAttribute{type, datagram.subspan(value_offset, value_length), offset};
        if (attribute::is_comprehension_required(type) && !attribute::is_known(type) &&
            view.unknown_count_ < view.unknown_.size()) {
            view.unknown_[view.unknown_count_++] = type;
        }
        offset = value_offset + padded(value_length);
    }
    return view;
}

std::optional<Bytes> MessageView::find(std::uint16_t type) const {
    for (std::size_t i = 0; i < count_; ++i) {
        if (attributes_[i].type == type) {
            return attributes_[i].value;
        }
    }
    return std::nullopt;
}

namespace {
std::optional<std::size_t> offset_of(std::span<const RawAttribute> attributes, std::uint16_t type) {
    for (const auto& raw : attributes) {
        if (raw.type == type) {
            return raw.offset;
        }
    }
    return std::nullopt;
}
}  // namespace

std::optional<std::size_t> MessageView::message_integrity_offset() const {
    return offset_of(attributes(), attribute::message_integrity);
}

std::optional<std::size_t> MessageView::message_integrity_sha256_offset() const {
    return offset_of(attributes(), attribute::message_integrity_sha256);
}

std::optional<std::size_t> MessageView::fingerprint_offset() const {
    return offset_of(attributes(), attribute::fingerprint);
}

}  // namespace hearth::stun
