#pragma once

// ChannelData messages (RFC 8656 §12.4).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "relay/stun/message.h"

namespace hearth::stun {

constexpr std::uint16_t min_channel_number = 0x4000;
// RFC 8656 §12 narrowed channels to 0x4000-0x4FFF, but RFC 5766 §11 clients (coturn's
// among them) still pick numbers up to 0x7FFF. Both share the "01" first bits that tell
// ChannelData from STUN, so hearth accepts the older range rather than refuse them.
constexpr std::uint16_t max_channel_number = 0x7FFF;
constexpr std::size_t channel_data_header_size = 4;

// First two bits 01 (RFC 7983: first byte 64-79 for valid channels).
bool looks_like_channel_data(Bytes datagram);
constexpr bool is_valid_channel_number(std::uint16_t number) {
    return number >= min_channel_number && number <= max_channel_number;
}

struct ChannelDataView {
    std::uint16_t channel_number = 0;
    Bytes payload;
};

// Over UDP the datagram may carry padding after the payload; over a stream the caller
// frames first (stream_framing.h). Nullopt if the channel is out of range or the
// length field runs past the bytes.
std::optional<ChannelDataView> parse_channel_data(Bytes bytes);

// Writes the 4-byte header in front of a payload that is already in place.
void write_channel_data_header(std::span<std::byte, channel_data_header_size> out,
                               std::uint16_t channel_number, std::uint16_t payload_length);

}  // namespace hearth::stun
