#include "relay/stun/message_builder.h"

#include <algorithm>
#include <cstring>

#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"

namespace hearth::stun {

namespace {

void put_u16(std::byte* out, std::uint16_t value) {
    out[0] = static_cast<std::byte>(value >> 8);
    out[1] = static_cast<std::byte>(value);
}

void put_u32(std::byte* out, std::uint32_t value) {
    put_u16(out, static_cast<std::uint16_t>(value >> 16));
    put_u16(out + 2, static_cast<std::uint16_t>(value));
}

constexpr std::size_t padded(std::size_t length) {
    return (length + 3) & ~std::size_t{3};
}

// RFC 8489 §14.8: the reason phrase is fewer than 128 UTF-8 characters. Longer text is cut
// before the 128th character, never inside one, so the result stays valid UTF-8.
std::size_t reason_phrase_length(std::string_view reason) {
    constexpr std::size_t max_characters = 127;
    std::size_t characters = 0;
    for (std::size_t i = 0; i < reason.size(); ++i) {
        const bool starts_character = (static_cast<unsigned char>(reason[i]) & 0xC0) != 0x80;
        if (starts_character && ++characters > max_characters) {
            return i;
        }
    }
    return reason.size();
}

constexpr std::size_t sha1_length = 20;
constexpr std::size_t sha256_length = 32;

}  // namespace

MessageBuilder::MessageBuilder(std::span<std::byte> buffer, Method method,
                               MessageClass message_class, const TransactionId& transaction_id)
    : buffer_(buffer) {
    if (buffer_.size() < header_size) {
        overflowed_ = true;
        return;
    }
    put_u16(buffer_.data(), encode_message_type(method, message_class));
    put_u16(buffer_.data() + 2, 0);
    put_u32(buffer_.data() + 4, magic_cookie);
    std::memcpy(buffer_.data() + 8, transaction_id.data(), transaction_id.size());
    size_ = header_size;
}

std::byte* MessageBuilder::reserve(std::uint16_t type, std::size_t value_length) {
    const std::size_t needed = attribute_header_size + padded(value_length);
    if (overflowed_ || value_length > 0xFFFF || buffer_.size() - size_ < needed ||
        size_ + needed - header_size > 0xFFFF) {
        overflowed_ = true;
        return nullptr;
    }
    std::byte* out = buffer_.data() + size_;
    put_u16(out, type);
    put_u16(out + 2, static_cast<std::uint16_t>(value_length));
    std::fill(out + attribute_header_size + value_length, out + needed, std::byte{0});
    size_ += needed;
    set_length(size_ - header_size);
    return out + attribute_header_size;
}

void MessageBuilder::set_length(std::size_t length) {
    put_u16(buffer_.data() + 2, static_cast<std::uint16_t>(length));
}

void MessageBuilder::add(std::uint16_t type, Bytes value) {
    // std::copy rather than memcpy: an empty value may come with a null data pointer.
    if (std::byte* out = reserve(type, value.size())) {
        std::copy(value.begin(), value.end(), out);
    }
}

void MessageBuilder::add_string(std::uint16_t type, std::string_view value) {
    add(type, Bytes(reinterpret_cast<const std::byte*>(value.data()), value.size()));
}

void MessageBuilder::add_u32(std::uint16_t type, std::uint32_t value) {
    if (std::byte* out = reserve(type, 4)) {
        put_u32(out, value);
    }
}

void MessageBuilder::add_xor_address(std::uint16_t type, const TransportAddress& address) {
    if (overflowed_) {
        return;
    }
    TransactionId transaction_id;
    std::memcpy(transaction_id.data(), buffer_.data() + 8, transaction_id.size());
    std::array<std::byte, 20> value{};
    const std::size_t length = encode_xor_address(address, transaction_id, value);
    add(type, Bytes(value.data(), length));
}

void MessageBuilder::add_error_code(int code, std::string_view reason) {
    const std::size_t reason_length = reason_phrase_length(reason);
    if (std::byte* out = reserve(attribute::error_code, 4 + reason_length)) {
        out[0] = std::byte{0};
        out[1] = std::byte{0};
        out[2] = static_cast<std::byte>((code / 100) & 0x7);
        out[3] = static_cast<std::byte>(code % 100);
        std::copy_n(reason.begin(), reason_length, reinterpret_cast<char*>(out + 4));
    }
}

void MessageBuilder::add_unknown_attributes(std::span<const std::uint16_t> types) {
    if (std::byte* out = reserve(attribute::unknown_attributes, types.size() * 2)) {
        for (std::size_t i = 0; i < types.size(); ++i) {
            put_u16(out + 2 * i, types[i]);
        }
    }
}

void MessageBuilder::add_message_integrity(Bytes key) {
    // RFC 8489 §14.5: the HMAC covers the message up to the attribute, with the length
    // field already counting the attribute itself.
    const std::size_t covered = size_;
    std::byte* out = reserve(attribute::message_integrity, sha1_length);
    if (out == nullptr) {
        return;
    }
    const auto mac = hmac_sha1(key, Bytes(buffer_.data(), covered));
    std::memcpy(out, mac.data(), mac.size());
}

void MessageBuilder::add_message_integrity_sha256(Bytes key) {
    const std::size_t covered = size_;
    std::byte* out = reserve(attribute::message_integrity_sha256, sha256_length);
    if (out == nullptr) {
        return;
    }
    const auto mac = hmac_sha256(key, Bytes(buffer_.data(), covered));
    std::memcpy(out, mac.data(), mac.size());
}

void MessageBuilder::add_integrity(const IntegrityKey& key) {
    if (key.attribute() == IntegrityAttribute::message_integrity_sha256) {
        add_message_integrity_sha256(key.bytes());
    } else {
        add_message_integrity(key.bytes());
    }
}

void MessageBuilder::add_fingerprint() {
    const std::size_t covered = size_;
    std::byte* out = reserve(attribute::fingerprint, 4);
    if (out == nullptr) {
        return;
    }
    put_u32(out, fingerprint_value(Bytes(buffer_.data(), covered)));
}

std::span<const std::byte> MessageBuilder::finish() const {
    if (overflowed_) {
        return {};
    }
    return {buffer_.data(), size_};
}

}  // namespace hearth::stun
