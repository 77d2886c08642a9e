#pragma once

// Framing of STUN and ChannelData over TCP and TLS (RFC 8656 §12.5: ChannelData padded
// to a multiple of four bytes on streams; RFC 8489 §6.2.2: STUN is self-delimiting).

#include <cstddef>
#include <variant>

#include "relay/stun/message.h"

namespace hearth::stun {

enum class FrameKind { stun, channel_data };

struct Frame {
    FrameKind kind = FrameKind::stun;
    std::size_t size = 0;          // bytes this frame takes on the stream, padding included
    std::size_t message_size = 0;  // bytes that form the message (ChannelData without padding)
};
struct NeedMoreBytes {};
enum class FramingError { not_stun_or_channel_data, too_long };

using FrameResult = std::variant<Frame, NeedMoreBytes, FramingError>;

// Looks at the start of the buffered stream and says how long the first frame is.
FrameResult next_frame(Bytes buffered);

}  // namespace hearth::stun
