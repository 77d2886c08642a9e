#pragma once

// Builds a STUN message into a caller-provided buffer. No heap: a builder that runs out
// of room remembers it, and finish() then returns an empty span.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"

namespace hearth::stun {

class MessageBuilder {
  public:
    MessageBuilder(std::span<std::byte> buffer, Method method, MessageClass message_class,
                   const TransactionId& transaction_id);

    // Appends one attribute, zero-padded to four bytes.
    void add(std::uint16_t type, Bytes value);
    void add_string(std::uint16_t type, std::string_view value);
    void add_u32(std::uint16_t type, std::uint32_t value);
    // XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 §14.2).
    void add_xor_address(std::uint16_t type, const TransportAddress& address);
    // ERROR-CODE (RFC 8489 §14.8): class and number from `code`, e.g. 401.
    void add_error_code(int code, std::string_view reason);
    void add_unknown_attributes(std::span<const std::uint16_t> types);
    // Integrity attributes go last but for FINGERPRINT (RFC 8489 §14.5, §14.6).
    void add_message_integrity(Bytes key);
    void add_message_integrity_sha256(Bytes key);
    // The attribute `key` is for, keyed with it.
    void add_integrity(const IntegrityKey& key);
    void add_fingerprint();

    bool overflowed() const { return overflowed_; }
    std::size_t size() const { return size_; }
    // The finished message, or an empty span if the buffer was too small.
    std::span<const std::byte> finish() const;

  private:
    std::byte* reserve(std::uint16_t type, std::size_t value_length);
    void set_length(std::size_t length);

    std::span<std::byte> buffer_;
    std::size_t size_ = 0;
    bool overflowed_ = false;
};

}  // namespace hearth::stun
