#include "relay/xdp/fast_path_channels.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "relay/xdp/fast_path_program.h"

namespace hearth::xdp {

namespace {

std::uint8_t family_of(const IpAddress& ip) {
    return ip.family == AddressFamily::ipv4 ? HEARTH_FP_FAMILY_IPV4 : HEARTH_FP_FAMILY_IPV6;
}

void copy_ip(__u8 (&out)[16], const IpAddress& ip) {
    std::memcpy(out, ip.bytes.data(), ip.size());  // the rest stays zero
}

std::uint64_t nanoseconds_of(turn::TimePoint time) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

}  // namespace

FastPathChannels::FastPathChannels(FastPathProgram& program, unsigned worker, unsigned workers)
    : program_(program),
      worker_(worker),
      first_slot_(static_cast<std::uint32_t>(HEARTH_FP_MAX_SLOTS / workers * worker)) {
    const std::uint32_t share = HEARTH_FP_MAX_SLOTS / workers;
    allocation_of_slot_.assign(share, nullptr);
    free_slots_.reserve(share);
    for (std::uint32_t slot = first_slot_ + share; slot > first_slot_; --slot) {
        free_slots_.push_back(slot - 1);  // handed out lowest first
    }
}

FastPathChannels::~FastPathChannels() {
    for (auto& [id, carried] : carried_) {
        for (const auto& channel : carried.channels) {
            remove_entries(channel);
        }
    }
}

FastPathChannels::Carried* FastPathChannels::carry(turn::Allocation& allocation) {
    if (auto found = carried_.find(allocation.id()); found != carried_.end()) {
        return &found->second;
    }
    if (free_slots_.empty()) {
        return nullptr;
    }
    const std::uint32_t slot = free_slots_.back();
    program_.clear_counters(slot);
    if (!program_.put_slot(slot, hearth_fp_slot{})) {  // no client address learned yet
        return nullptr;
    }
    free_slots_.pop_back();
    allocation_of_slot_[slot - first_slot_] = &allocation;
    Carried& carried = carried_[allocation.id()];
    carried.allocation = &allocation;
    carried.slot = slot;
    top_up(carried, turn::Clock::now());  // its first packets need no wait for the tick
    return &carried;
}

void FastPathChannels::offer(turn::Allocation& allocation, const turn::ChannelBinding& binding,
                             const turn::RelayEndpoint& relay, turn::TimePoint until) {
    Carried* carried = carry(allocation);
    if (carried == nullptr) {
        ++offers_refused_;
        return;
    }
    const turn::FiveTuple& tuple = allocation.five_tuple();
    Channel channel;
    channel.number = binding.number;
    channel.until_ns = nanoseconds_of(until);
    // Client -> relay, ChannelData on the number; out from the relayed address to the peer.
    copy_ip(channel.client_key.client_ip, tuple.client.ip);
    copy_ip(channel.client_key.server_ip, tuple.server.ip);
    channel.client_key.client_port = htons(tuple.client.port);
    channel.client_key.server_port = htons(tuple.server.port);
    channel.client_key.channel = htons(binding.number);
    channel.client_key.family = family_of(tuple.client.ip);
    hearth_fp_client_entry to_peer{};
    copy_ip(to_peer.relay_ip, relay.address.ip);
    copy_ip(to_peer.peer_ip, binding.peer.ip);
    to_peer.relay_port = htons(relay.address.port);
    to_peer.peer_port = htons(binding.peer.port);
    to_peer.slot = carried->slot;
    to_peer.expires_ns = channel.until_ns;
    to_peer.worker = worker_;
    // Peer -> relayed address; out to the client as ChannelData from the listener.
    copy_ip(channel.peer_key.peer_ip, binding.peer.ip);
    copy_ip(channel.peer_key.relay_ip, relay.address.ip);
    channel.peer_key.peer_port = htons(binding.peer.port);
    channel.peer_key.relay_port = htons(relay.address.port);
    channel.peer_key.family = family_of(binding.peer.ip);
    hearth_fp_peer_entry to_client{};
    copy_ip(to_client.client_ip, tuple.client.ip);
    copy_ip(to_client.server_ip, tuple.server.ip);
    to_client.client_port = htons(tuple.client.port);
    to_client.server_port = htons(tuple.server.port);
    to_client.channel = htons(binding.number);
    to_client.slot = carried->slot;
    to_client.expires_ns = channel.until_ns;
    to_client.worker = worker_;

    auto& channels = carried->channels;
    auto same_number = std::find_if(channels.begin(), channels.end(),
                                    [&](const Channel& c) { return c.number == binding.number; });
    if (same_number != channels.end()) {
        remove_entries(*same_number);  // the number may have moved to another peer
        channels.erase(same_number);
    }
    if (!program_.put_client(channel.client_key, to_peer) ||
        !program_.put_peer(channel.peer_key, to_client)) {
        remove_entries(channel);
        ++offers_refused_;
        return;
    }
    channels.push_back(channel);
}

void FastPathChannels::remove_entries(const Channel& channel) {
    program_.remove_client(channel.client_key);
    program_.remove_peer(channel.peer_key);
}

turn::FastPathCounts FastPathChannels::counts_since(Carried& carried) {
    const hearth_fp_counters now = program_.read_counters(carried.slot);
    const hearth_fp_counters& seen = carried.seen;
    turn::FastPathCounts counts;
    counts.to_peer_packets = now.to_peer_packets - seen.to_peer_packets;
    counts.to_peer_bytes = now.to_peer_bytes - seen.to_peer_bytes;
    counts.to_client_packets = now.to_client_packets - seen.to_client_packets;
    counts.to_client_bytes = now.to_client_bytes - seen.to_client_bytes;
    carried.seen = now;
    return counts;
}

turn::FastPathCounts FastPathChannels::withdraw(turn::Allocation& allocation) {
    auto found = carried_.find(allocation.id());
    if (found == carried_.end()) {
        return {};
    }
    Carried& carried = found->second;
    for (const auto& channel : carried.channels) {
        remove_entries(channel);
    }
    // The entries are gone: no packet is carried from here on. Its media records still in
    // the ring go to the allocation first, then the last counts; what it was granted and
    // did not spend goes back to its budgets.
    drain_media();
    give_back_allowance(carried);
    const turn::FastPathCounts last = counts_since(carried);
    program_.clear_counters(carried.slot);
    allocation_of_slot_[carried.slot - first_slot_] = nullptr;
    free_slots_.push_back(carried.slot);
    carried_.erase(found);
    return last;
}

void FastPathChannels::collect(
    const std::function<void(turn::Allocation&, const turn::FastPathCounts&)>& add) {
    drain_media();
    const std::uint64_t now_ns = nanoseconds_of(turn::Clock::now());
    for (auto& [id, carried] : carried_) {
        if (const auto counts = counts_since(carried); counts.any()) {
            add(*carried.allocation, counts);
        }
        auto& channels = carried.channels;
        std::erase_if(channels, [&](const Channel& channel) {
            if (channel.until_ns > now_ns) {
                return false;
            }
            remove_entries(channel);  // inert already (expires_ns); the map stays small
            return true;
        });
    }
}

void FastPathChannels::top_up_allowances(turn::TimePoint now) {
    for (auto& [id, carried] : carried_) {
        top_up(carried, now);
    }
}

void FastPathChannels::top_up(Carried& carried, turn::TimePoint now) {
    hearth_fp_allowance& allowance = program_.allowance(carried.slot);
    std::atomic_ref to_peer(allowance.to_peer_bytes);
    std::atomic_ref to_client(allowance.to_client_bytes);
    if (const auto left = to_peer.load(std::memory_order_relaxed); left < allowance_target) {
        to_peer.fetch_add(static_cast<std::int64_t>(carried.allocation->grant_client_to_peer(
                              static_cast<std::size_t>(allowance_target - left), now)),
                          std::memory_order_relaxed);
    }
    if (const auto left = to_client.load(std::memory_order_relaxed); left < allowance_target) {
        to_client.fetch_add(static_cast<std::int64_t>(carried.allocation->grant_peer_to_client(
                                static_cast<std::size_t>(allowance_target - left), now)),
                            std::memory_order_relaxed);
    }
}

void FastPathChannels::give_back_allowance(Carried& carried) {
    hearth_fp_allowance& allowance = program_.allowance(carried.slot);
    const auto to_peer =
        std::atomic_ref(allowance.to_peer_bytes).exchange(0, std::memory_order_relaxed);
    const auto to_client =
        std::atomic_ref(allowance.to_client_bytes).exchange(0, std::memory_order_relaxed);
    carried.allocation->give_back_client_to_peer(
        static_cast<std::size_t>(std::max<std::int64_t>(to_peer, 0)));
    carried.allocation->give_back_peer_to_client(
        static_cast<std::size_t>(std::max<std::int64_t>(to_client, 0)));
}

void FastPathChannels::drain_media() {
    program_.drain_media(worker_, [this](const hearth_fp_media_record& record) {
        if (record.slot < first_slot_ || record.slot - first_slot_ >= allocation_of_slot_.size()) {
            return;
        }
        turn::Allocation* allocation = allocation_of_slot_[record.slot - first_slot_];
        if (allocation == nullptr) {
            return;  // carried just before its allocation was withdrawn
        }
        auto& leg = record.direction == 0 ? allocation->client_to_peer_media
                                          : allocation->peer_to_client_media;
        const auto header =
            std::as_bytes(std::span(record.header))
                .first(std::min<std::size_t>(record.header_bytes, HEARTH_FP_MEDIA_HEADER_BYTES));
        leg.observe_header(header, record.payload_bytes,
                           turn::TimePoint(std::chrono::nanoseconds(record.arrival_ns)));
    });
}

}  // namespace hearth::xdp
