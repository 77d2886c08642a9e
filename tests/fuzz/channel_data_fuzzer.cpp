// ChannelData messages as a client sends them over UDP (RFC 8656 §12.4).

#include <cstdlib>

#include "fuzz_input.h"
#include "relay/stun/channel_data.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = hearth::fuzz::as_bytes(data, size);
    (void)hearth::stun::looks_like_channel_data(bytes);
    const auto channel_data = hearth::stun::parse_channel_data(bytes);
    // The payload lies inside the datagram, after the header.
    if (channel_data &&
        (channel_data->payload.data() != bytes.data() + hearth::stun::channel_data_header_size ||
         channel_data->payload.size() + hearth::stun::channel_data_header_size > bytes.size())) {
        std::abort();
    }
    return 0;
}
