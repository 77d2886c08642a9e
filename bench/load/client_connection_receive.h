#pragma once

// ClientConnection::receive, a template: here so that client_connection.h stays readable.

#include <sys/socket.h>

#include <array>
#include <cstring>

#include "relay/stun/stream_framing.h"

namespace hearth::load {

template <typename OnMessage>
bool ClientConnection::receive(OnMessage&& on_message) {
    if (!is_stream()) {
        constexpr std::size_t batch = 32;
        static thread_local std::array<std::array<std::byte, 2048>, batch> buffers;
        std::array<mmsghdr, batch> headers{};
        std::array<iovec, batch> vectors{};
        for (;;) {
            for (std::size_t i = 0; i < batch; ++i) {
                vectors[i] = {buffers[i].data(), buffers[i].size()};
                headers[i].msg_hdr = {};
                headers[i].msg_hdr.msg_iov = &vectors[i];
                headers[i].msg_hdr.msg_iovlen = 1;
            }
            const int received = recvmmsg(fd_, headers.data(), batch, MSG_DONTWAIT, nullptr);
            if (received <= 0) {
                return true;
            }
            for (int i = 0; i < received; ++i) {
                on_message(stun::Bytes(buffers[i].data(), headers[i].msg_len));
            }
        }
    }
    const bool open = fill();
    std::size_t consumed = 0;
    for (;;) {
        const stun::Bytes rest(input_.get() + consumed, input_used_ - consumed);
        const auto frame = stun::next_frame(rest);
        if (std::holds_alternative<stun::FramingError>(frame)) {
            return false;  // not STUN or ChannelData: nothing sensible follows
        }
        if (!std::holds_alternative<stun::Frame>(frame) ||
            std::get<stun::Frame>(frame).size > rest.size()) {
            break;
        }
        const auto& whole = std::get<stun::Frame>(frame);
        on_message(rest.first(whole.message_size));
        consumed += whole.size;
    }
    std::memmove(input_.get(), input_.get() + consumed, input_used_ - consumed);
    input_used_ -= consumed;
    return open;
}

}  // namespace hearth::load
