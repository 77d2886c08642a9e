#include "relay/net/snapshot.h"

#include <algorithm>

namespace hearth::relay {

AllocationSnapshot snapshot_of(const turn::Allocation& allocation, turn::TimePoint now) {
    AllocationSnapshot entry;
    entry.id = allocation.id();
    entry.session_id = allocation.owner().session_id;
    entry.user_id = allocation.owner().user_id;
    entry.client = allocation.five_tuple().client.to_string();
    entry.transport = turn::to_string(allocation.five_tuple().transport);
    entry.client_transport = allocation.five_tuple().transport;
    for (const auto* relay :
         {allocation.relay_for(AddressFamily::ipv4), allocation.relay_for(AddressFamily::ipv6)}) {
        if (relay != nullptr) {
            entry.relayed.push_back(relay->address.to_string());
        }
    }
    entry.age_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(now - allocation.created).count();
    entry.lifetime_remaining_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(allocation.expires - now).count();
    entry.permissions = allocation.permission_count();
    entry.channels = allocation.channel_count();
    entry.client_to_peer = allocation.client_to_peer;
    entry.peer_to_client = allocation.peer_to_client;
    const auto second = turn::second_of(now);
    entry.client_to_peer_bps = allocation.client_to_peer_media.rate().bits_per_second(second);
    entry.peer_to_client_bps = allocation.peer_to_client_media.rate().bits_per_second(second);
    entry.client_to_peer_media = allocation.client_to_peer_media.media();
    entry.peer_to_client_media = allocation.peer_to_client_media.media();
    const auto& up = entry.client_to_peer_media;
    const auto& down = entry.peer_to_client_media;
    entry.quality =
        turn::quality_of(up.rtp_expected + down.rtp_expected, up.rtp_lost + down.rtp_lost,
                         std::max(up.jitter_milliseconds, down.jitter_milliseconds),
                         allocation.client_to_peer.packets + allocation.peer_to_client.packets,
                         allocation.client_to_peer.dropped() + allocation.peer_to_client.dropped());
    return entry;
}

NodeCounters sum_of(const std::vector<WorkerSnapshot>& workers) {
    NodeCounters total;
    for (const auto& worker : workers) {
        add_counters(total.server, worker.counters, turn::server_counter_rows);
        add_counters(total.io, worker.io, io_counter_rows);
        total.server.histograms.add(worker.counters.histograms);
        for (std::size_t transport = 0; transport < total.client_to_peer.size(); ++transport) {
            add_counters(total.client_to_peer[transport],
                         worker.counters.retired_client_to_peer[transport],
                         turn::direction_counter_rows);
            add_counters(total.peer_to_client[transport],
                         worker.counters.retired_peer_to_client[transport],
                         turn::direction_counter_rows);
        }
        for (const auto& allocation : worker.allocations) {
            const auto transport = static_cast<std::size_t>(allocation.client_transport);
            add_counters(total.client_to_peer[transport], allocation.client_to_peer,
                         turn::direction_counter_rows);
            add_counters(total.peer_to_client[transport], allocation.peer_to_client,
                         turn::direction_counter_rows);
        }
        total.allocations_active += worker.allocations.size();
    }
    return total;
}

}  // namespace hearth::relay
