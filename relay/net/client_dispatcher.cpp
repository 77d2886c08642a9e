#include "relay/net/client_dispatcher.h"

#include "relay/net/relay_socket_pool.h"
#include "relay/stun/channel_data.h"

namespace hearth::relay {

ClientDispatcher::ClientDispatcher(turn::TurnServer& server, RelaySocketPool& relays,
                                   ParkedRequests::Limits parking)
    : server_(server), relays_(relays), parked_(parking) {}

void ClientDispatcher::on_datagram(turn::ClientLink& link, const turn::FiveTuple& tuple,
                                   stun::Bytes datagram, const turn::Now& now) {
    if (stun::looks_like_channel_data(datagram)) {
        relay_channel_data(tuple, datagram, now.monotonic);
        return;
    }
    if (!stun::looks_like_stun(datagram)) {
        ++counters_.udp_not_stun;
        return;
    }
    dispatch_stun(link, tuple, datagram, now);
}

std::optional<turn::TurnServer::TcpConnectionBind> ClientDispatcher::on_frame(
    turn::ClientLink& link, const turn::FiveTuple& tuple, stun::Bytes frame, stun::FrameKind kind,
    const turn::Now& now) {
    if (kind == stun::FrameKind::channel_data) {
        relay_channel_data(tuple, frame, now.monotonic);
        return std::nullopt;
    }
    return dispatch_stun(link, tuple, frame, now);
}

// The packet path: no heap, no lock, no log.
void ClientDispatcher::relay_channel_data(const turn::FiveTuple& tuple, stun::Bytes message,
                                          turn::TimePoint now) {
    if (const auto send = server_.handle_channel_data(tuple, message, now)) {
        relays_.send_to_peer(*send);
    }
}

std::optional<turn::TurnServer::TcpConnectionBind> ClientDispatcher::dispatch_stun(
    turn::ClientLink& link, const turn::FiveTuple& tuple, stun::Bytes bytes, const turn::Now& now) {
    const auto message = stun::MessageView::parse(bytes);
    if (!message) {
        // RFC 8489 §6.3: a message that is not well-formed STUN is discarded silently.
        ++counters_.malformed;
        return std::nullopt;
    }
    auto outcome = server_.handle_stun(*message, tuple, now, &link);
    if (outcome.waiting_for) {
        park(*outcome.waiting_for, link, tuple, *message, bytes, now.monotonic);
        return std::nullopt;
    }
    if (!outcome.response.empty()) {
        link.send_to_client(tuple.client, outcome.response);
    }
    if (outcome.to_peer) {
        relays_.send_to_peer(*outcome.to_peer);
    }
    if (outcome.tcp_connect) {
        relays_.connect(*outcome.tcp_connect);
    }
    return std::move(outcome.tcp_connection_bind);
}

void ClientDispatcher::park(const turn::StoreQuestion& question, turn::ClientLink& link,
                            const turn::FiveTuple& tuple, const stun::MessageView& message,
                            stun::Bytes bytes, turn::TimePoint now) {
    switch (parked_.park(question, tuple, link, bytes, message.transaction_id(), now)) {
        case ParkedRequests::Result::parked:
            ++counters_.parked;
            return;
        case ParkedRequests::Result::already_parked:
            return;  // a retransmission; the copy already parked gets the answer
        case ParkedRequests::Result::source_full:
        case ParkedRequests::Result::table_full:
            ++counters_.parked_dropped;  // a UDP client retransmits; nothing grows
            return;
    }
}

void ClientDispatcher::resume(const turn::StoreQuestion& question, const turn::Now& now) {
    for (auto& request : parked_.take(question)) {
        ++counters_.resumed;
        // A ConnectionBind never waits for the store, so a resumed request never is one.
        // It keeps the time it first arrived (an Allocate's setup time counts the wait).
        turn::Now resumed = now;
        resumed.received = request.parked_at;
        dispatch_stun(*request.link, request.tuple, request.bytes, resumed);
    }
}

}  // namespace hearth::relay
