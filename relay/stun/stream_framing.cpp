#include "relay/stun/stream_framing.h"

#include "relay/stun/channel_data.h"

namespace hearth::stun {

FrameResult next_frame(Bytes buffered) {
    if (buffered.size() < 4) {
        return NeedMoreBytes{};
    }
    const unsigned first = std::to_integer<unsigned>(buffered[0]);
    const std::size_t length = (std::to_integer<std::size_t>(buffered[2]) << 8) |
                               std::to_integer<std::size_t>(buffered[3]);
    if ((first & 0xC0) == 0x00) {
        const std::size_t size = header_size + length;
        if (size > max_message_size) {
            return FramingError::too_long;
        }
        return Frame{FrameKind::stun, size, size};
    }
    if ((first & 0xC0) == 0x40) {
        // RFC 8656 §12.5: over a stream, ChannelData is padded to a multiple of four.
        const std::size_t message_size = channel_data_header_size + length;
        return Frame{FrameKind::channel_data, (message_size + 3) & ~std::size_t{3}, message_size};
    }
    return FramingError::not_stun_or_channel_data;
}

}  // namespace hearth::stun
