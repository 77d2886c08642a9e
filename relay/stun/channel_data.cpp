#include "relay/stun/channel_data.h"

namespace hearth::stun {

bool looks_like_channel_data(Bytes datagram) {
    return datagram.size() >= channel_data_header_size &&
           (std::to_integer<unsigned>(datagram[0]) & 0xC0) == 0x40;
}

std::optional<ChannelDataView> parse_channel_data(Bytes bytes) {
    if (bytes.size() < channel_data_header_size) {
        return std::nullopt;
    }
    const auto number = static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                                   std::to_integer<unsigned>(bytes[1]));
    const std::size_t length =
        (std::to_integer<std::size_t>(bytes[2]) << 8) | std::to_integer<std::size_t>(bytes[3]);
    if (!is_valid_channel_number(number) || length > bytes.size() - channel_data_header_size) {
        return std::nullopt;
    }
    return ChannelDataView{number, bytes.subspan(channel_data_header_size, length)};
}

void write_channel_data_header(std::span<std::byte, channel_data_header_size> out,
                               std::uint16_t channel_number, std::uint16_t payload_length) {
    out[0] = static_cast<std::byte>(channel_number >> 8);
    out[1] = static_cast<std::byte>(channel_number);
    out[2] = static_cast<std::byte>(payload_length >> 8);
    out[3] = static_cast<std::byte>(payload_length);
}

}  // namespace hearth::stun
