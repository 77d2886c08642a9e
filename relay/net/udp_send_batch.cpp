#include "relay/net/udp_send_batch.h"

#include <cstring>

namespace hearth::relay {

std::size_t UdpSendBatch::queue(const TransportAddress& destination, stun::Bytes datagram) {
    std::size_t refused = 0;
    if (count_ == capacity_datagrams || used_bytes_ + datagram.size() > capacity_bytes) {
        refused = flush();
    }
    if (datagram.size() > capacity_bytes) {
        return refused + 1;  // larger than any datagram a worker builds
    }
    std::byte* copy = bytes_.data() + used_bytes_;
    std::memcpy(copy, datagram.data(), datagram.size());
    used_bytes_ += datagram.size();

    vectors_[count_] = {copy, datagram.size()};
    msghdr& header = headers_[count_].msg_hdr;
    header = {};
    header.msg_name = &destinations_[count_];
    header.msg_namelen = destination.to_sockaddr(destinations_[count_]);
    header.msg_iov = &vectors_[count_];
    header.msg_iovlen = 1;
    ++count_;
    return refused;
}

std::size_t UdpSendBatch::flush() {
    std::size_t refused = 0;
    std::size_t next = 0;
    // Each pass sends at least one datagram or gives one up, so this ends. sendmmsg stops
    // at the first datagram the kernel refuses and tells only on the next call.
    while (next < count_) {
        const int sent = sendmmsg(fd_, headers_.data() + next, static_cast<unsigned>(count_ - next),
                                  MSG_DONTWAIT);
        if (sent <= 0) {
            ++refused;
            ++next;
            continue;
        }
        next += static_cast<std::size_t>(sent);
    }
    count_ = 0;
    used_bytes_ = 0;
    return refused;
}

}  // namespace hearth::relay
