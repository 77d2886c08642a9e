// The packet path: ChannelData both ways (RFC 8656 §12.6, §12.7) and a peer's datagram
// wrapped in a Data indication (§11.3); the Send indication is in send.cpp. No heap, no
// lock, no log: a few comparisons and a header written in place. Only the first packet
// under a permission or channel goes further (first_use.cpp).

#include <cstring>

#include "relay/stun/attributes.h"
#include "relay/stun/channel_data.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

namespace attribute = stun::attribute;

namespace {

void put_u16(std::byte* out, std::uint16_t value) {
    out[0] = static_cast<std::byte>(value >> 8);
    out[1] = static_cast<std::byte>(value);
}

std::size_t padded(std::size_t length) {
    return (length + 3) & ~std::size_t{3};
}

}  // namespace

std::optional<PeerSend> TurnServer::handle_channel_data(const FiveTuple& tuple,
                                                        stun::Bytes datagram, TimePoint now) {
    Allocation* allocation = find(tuple);
    if (allocation == nullptr || allocation->relay_protocol != RelayProtocol::udp) {
        ++counters_.dropped_no_allocation;
        return std::nullopt;
    }
    const auto channel_data = stun::parse_channel_data(datagram);
    if (!channel_data) {
        ++counters_.malformed_messages;
        ++allocation->client_to_peer.dropped_malformed;
        return std::nullopt;
    }
    // RFC 8656 §12.6: data on an unbound channel is discarded.
    ChannelBinding* binding = allocation->channel_by_number(channel_data->channel_number, now);
    if (binding == nullptr) {
        ++counters_.dropped_no_channel;
        return std::nullopt;
    }
    const RelayEndpoint* relay = allocation->relay_for(binding->peer.ip.family);
    Permission* permission =
        relay == nullptr ? nullptr : allocation->live_permission(binding->peer.ip, now);
    if (permission == nullptr) {
        ++allocation->client_to_peer.dropped_no_permission;
        ++counters_.dropped_no_permission;
        return std::nullopt;
    }
    // Another allocation of this relay: its port is open only while that allocation lives.
    if (binding->peer_is_other_allocation) [[unlikely]] {
        if (const PeerRefusal refusal = peer_policy_.check_port(binding->peer);
            refusal != PeerRefusal::none) {
            count_peer_refusal(*allocation, binding->peer.ip, refusal);
            return std::nullopt;
        }
    }
    if (!allocation->within_client_to_peer_budget(channel_data->payload.size(), now)) {
        ++allocation->client_to_peer.dropped_bandwidth;
        ++counters_.dropped_bandwidth;
        return std::nullopt;
    }
    ++allocation->client_to_peer.packets;
    allocation->client_to_peer.bytes += channel_data->payload.size();
    allocation->activity->note_relayed(now);
    allocation->client_to_peer_media.observe(channel_data->payload, now);
    if (!binding->used || !permission->used) [[unlikely]] {
        note_first_use(*allocation, *permission, binding, binding->peer, Direction::client_to_peer);
    }
    offer_fast_path(*allocation, *binding, *permission, *relay);
    return PeerSend{relay, binding->peer, channel_data->payload};
}

stun::Bytes TurnServer::wrap_peer_datagram(Allocation& allocation, const TransportAddress& peer,
                                           std::span<std::byte> buffer, std::size_t payload_length,
                                           TimePoint now, bool pad_to_four) {
    // RFC 8656 §11.3, §12.7: data from a peer without a permission is discarded.
    Permission* permission = allocation.live_permission(peer.ip, now);
    if (permission == nullptr) {
        ++allocation.peer_to_client.dropped_no_permission;
        ++counters_.dropped_no_permission;
        return {};
    }
    if (!allocation.within_peer_to_client_budget(payload_length, now)) {
        ++allocation.peer_to_client.dropped_bandwidth;
        ++counters_.dropped_bandwidth;
        return {};
    }
    std::byte* payload = buffer.data() + peer_data_headroom;
    const std::size_t padding = padded(payload_length) - payload_length;
    ++allocation.peer_to_client.packets;
    allocation.peer_to_client.bytes += payload_length;
    allocation.activity->note_relayed(now);
    allocation.peer_to_client_media.observe(stun::Bytes(payload, payload_length), now);

    ChannelBinding* binding = allocation.channel_by_peer(peer, now);
    if (!permission->used || (binding != nullptr && !binding->used)) [[unlikely]] {
        note_first_use(allocation, *permission, binding, peer, Direction::peer_to_client);
    }
    if (binding != nullptr) {
        if (const RelayEndpoint* relay = allocation.relay_for(peer.ip.family)) {
            offer_fast_path(allocation, *binding, *permission, *relay);
        }
        std::byte* start = payload - stun::channel_data_header_size;
        stun::write_channel_data_header(std::span<std::byte, stun::channel_data_header_size>(
                                            start, stun::channel_data_header_size),
                                        binding->number,
                                        static_cast<std::uint16_t>(payload_length));
        std::size_t size = stun::channel_data_header_size + payload_length;
        if (pad_to_four) {  // RFC 8656 §12.5: streams carry ChannelData padded to 4 bytes
            std::memset(payload + payload_length, 0, padding);
            size += padding;
        }
        return {start, size};
    }

    // A Data indication: header, XOR-PEER-ADDRESS, DATA, written backwards from the payload.
    stun::TransactionId transaction_id;
    for (std::size_t i = 0; i < transaction_id.size(); i += 8) {
        // xorshift64: indications need a fresh ID, not a secret one (RFC 8489 §6).
        indication_id_state_ ^= indication_id_state_ << 13;
        indication_id_state_ ^= indication_id_state_ >> 7;
        indication_id_state_ ^= indication_id_state_ << 17;
        std::memcpy(transaction_id.data() + i, &indication_id_state_,
                    std::min<std::size_t>(8, transaction_id.size() - i));
    }
    std::array<std::byte, 20> address{};
    const std::size_t address_length = stun::encode_xor_address(peer, transaction_id, address);
    const std::size_t attributes_length = stun::attribute_header_size + address_length +
                                          stun::attribute_header_size + padded(payload_length);
    std::byte* start = payload - stun::header_size - stun::attribute_header_size - address_length -
                       stun::attribute_header_size;
    std::byte* out = start;
    put_u16(out, stun::encode_message_type(stun::Method::data, stun::MessageClass::indication));
    put_u16(out + 2, static_cast<std::uint16_t>(attributes_length));
    put_u16(out + 4, static_cast<std::uint16_t>(stun::magic_cookie >> 16));
    put_u16(out + 6, static_cast<std::uint16_t>(stun::magic_cookie));
    std::memcpy(out + 8, transaction_id.data(), transaction_id.size());
    out += stun::header_size;
    put_u16(out, attribute::xor_peer_address);
    put_u16(out + 2, static_cast<std::uint16_t>(address_length));
    std::memcpy(out + 4, address.data(), address_length);
    out += stun::attribute_header_size + address_length;
    put_u16(out, attribute::data);
    put_u16(out + 2, static_cast<std::uint16_t>(payload_length));
    std::memset(payload + payload_length, 0, padding);
    return {start, stun::header_size + attributes_length};
}

}  // namespace hearth::turn
