// A TCP or TLS byte stream cut into frames as StreamConnection does (RFC 8656 §12.5), each
// frame then parsed as STUN or ChannelData.

#include <cstdlib>

#include "fuzz_input.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/message.h"
#include "relay/stun/stream_framing.h"

using namespace hearth::stun;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes stream = hearth::fuzz::as_bytes(data, size);
    while (!stream.empty()) {
        const auto result = next_frame(stream);
        if (!std::holds_alternative<Frame>(result)) {
            break;
        }
        const auto frame = std::get<Frame>(result);
        // A frame always advances the stream and holds its message: otherwise the reader
        // would spin or read past what it pulled up.
        if (frame.size == 0 || frame.message_size > frame.size) {
            std::abort();
        }
        if (frame.size > stream.size()) {
            break;
        }
        const Bytes message = stream.first(frame.message_size);
        if (frame.kind == FrameKind::stun) {
            (void)MessageView::parse(message);
        } else {
            (void)parse_channel_data(message);
        }
        stream = stream.subspan(frame.size);
    }
    return 0;
}
