#include "relay/net/udp_listener.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "relay/net/socket_options.h"
#include "relay/net/udp_socket_drops.h"

namespace hearth::relay {

UdpListener::UdpListener(event_base* base, const LoopClock& clock, ClientDispatcher& dispatcher,
                         TransportAddress address)
    : base_(base), clock_(clock), dispatcher_(dispatcher), address_(address) {}

UdpListener::~UdpListener() {
    if (fd_ >= 0) {
        flush_sends();
    }
    for (event* owned : {read_event_, flush_event_}) {
        if (owned != nullptr) {
            event_free(owned);
        }
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool UdpListener::open(std::string& error) {
    fd_ = open_bound_socket(address_, SOCK_DGRAM, error);
    if (fd_ < 0) {
        return false;
    }
    sends_.set_socket(fd_);
    // Every client of this worker arrives here: room for bursts, so the kernel does not
    // drop while the loop is busy (udp_socket_drops() tells if it still does).
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &listener_receive_buffer_bytes,
               sizeof listener_receive_buffer_bytes);
    int granted = 0;
    socklen_t granted_length = sizeof granted;
    getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &granted, &granted_length);
    if (granted / 2 < listener_receive_buffer_bytes) {  // Linux reports twice the size set
        spdlog::info("udp {}: receive buffer {} bytes, not the {} asked: raise net.core.rmem_max",
                     address_.to_string(), granted / 2, listener_receive_buffer_bytes);
    }
    read_event_ = event_new(base_, fd_, EV_READ | EV_PERSIST, &UdpListener::on_readable, this);
    flush_event_ = event_new(base_, -1, 0, &UdpListener::on_end_of_turn, this);
    return read_event_ != nullptr && flush_event_ != nullptr &&
           event_add(read_event_, nullptr) == 0;
}

void UdpListener::on_readable(evutil_socket_t, short, void* context) {
    static_cast<UdpListener*>(context)->read_batch();
}

void UdpListener::read_batch() {
    std::array<mmsghdr, batch_size> headers{};
    std::array<iovec, batch_size> vectors{};
    for (std::size_t i = 0; i < batch_size; ++i) {
        vectors[i] = {buffers_[i].data(), datagram_capacity};
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
        headers[i].msg_hdr.msg_name = &sources_[i];
        headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int received = recvmmsg(fd_, headers.data(), batch_size, MSG_DONTWAIT, nullptr);
    if (received <= 0) {
        return;
    }
    const turn::Now now = clock_.now();  // once per batch
    for (std::size_t i = 0; i < static_cast<std::size_t>(received); ++i) {
        const msghdr& header = headers[i].msg_hdr;
        if ((header.msg_flags & MSG_TRUNC) != 0) {
            ++dropped_truncated_;
            continue;
        }
        const auto client = TransportAddress::from_sockaddr(
            reinterpret_cast<const sockaddr*>(header.msg_name), header.msg_namelen);
        if (!client) {
            continue;
        }
        dispatcher_.on_datagram(*this,
                                turn::FiveTuple{*client, address_, turn::ClientTransport::udp},
                                stun::Bytes(buffers_[i].data(), headers[i].msg_len), now);
    }
}

bool UdpListener::send_to_client(const TransportAddress& client, stun::Bytes message) {
    if (sends_.empty()) {
        event_active(flush_event_, EV_WRITE, 1);
    }
    // A kernel refusal is counted on the listener, not on the allocation that queued.
    send_failures_ += sends_.queue(client, message);
    return true;
}

void UdpListener::on_end_of_turn(evutil_socket_t, short, void* context) {
    static_cast<UdpListener*>(context)->flush_sends();
}

void UdpListener::flush_sends() {
    send_failures_ += sends_.flush();
}

}  // namespace hearth::relay
