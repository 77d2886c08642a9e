#include "relay/net/record_updates.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hearth::relay {

using auth::Merge;
using auth::RecordUpdate;
using turn::DirectionCounters;
using turn::MediaTotals;

namespace {

// Every change goes to the session's summary and to the participant's.
class UpdateList {
  public:
    explicit UpdateList(std::string_view user_id)
        : participant_(std::string(auth::participant_field_prefix) + std::string(user_id) + ".") {}

    void add(std::string_view name, Merge merge, std::int64_t value, std::int64_t at = 0) {
        for (const auto& scope : {std::string(auth::session_field_prefix), participant_}) {
            updates_.push_back(RecordUpdate{scope + std::string(name), merge, value, at});
        }
    }
    std::vector<RecordUpdate> take() { return std::move(updates_); }

  private:
    std::string participant_;
    std::vector<RecordUpdate> updates_;
};

std::int64_t as_field(std::uint64_t value) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(value, INT64_MAX));
}

void add_leg(UpdateList& updates, std::string_view leg, const DirectionCounters& counters,
             const MediaTotals& media, std::uint64_t peak_bps) {
    const std::string prefix(leg);
    updates.add(prefix + "_bytes", Merge::add, as_field(counters.bytes));
    updates.add(prefix + "_packets", Merge::add, as_field(counters.packets));
    updates.add(prefix + "_peak_bps", Merge::highest, as_field(peak_bps));
    updates.add(prefix + "_rtp_expected", Merge::add, as_field(media.rtp_expected));
    updates.add(prefix + "_rtp_lost", Merge::add, std::max<std::int64_t>(media.rtp_lost, 0));
    updates.add(prefix + "_jitter_us", Merge::highest,
                std::llround(media.jitter_milliseconds * 1000.0));
}

// The drops of both directions, by the reason names of the counter table.
void add_drops(UpdateList& updates, const turn::Allocation& allocation) {
    constexpr std::string_view dropped = "dropped.";
    for (const auto& row : turn::direction_counter_rows) {
        const std::string_view name = row.json;
        if (name.starts_with(dropped)) {
            updates.add("dropped_" + std::string(name.substr(dropped.size())), Merge::add,
                        as_field(allocation.client_to_peer.*row.field +
                                 allocation.peer_to_client.*row.field));
        }
    }
}

}  // namespace

std::vector<RecordUpdate> record_created(const turn::Owner& owner, std::int64_t unix_ms) {
    UpdateList updates(owner.user_id);
    updates.add("live", Merge::add, 1);
    updates.add("allocations", Merge::add, 1);
    updates.add("started_unix_ms", Merge::lowest, unix_ms);
    return updates.take();
}

std::vector<RecordUpdate> record_deleted(const turn::Allocation& allocation,
                                         turn::DeleteReason reason, turn::TimePoint now,
                                         std::int64_t unix_ms) {
    turn::QualityTrack quality = allocation.quality;
    quality.sample_now(allocation.to_peer_totals(), allocation.to_client_totals(), now, unix_ms);

    UpdateList updates(allocation.owner().user_id);
    updates.add("live", Merge::add, -1);
    updates.add("ended_unix_ms", Merge::highest, unix_ms);
    add_leg(updates, "to_peer", allocation.client_to_peer, allocation.client_to_peer_media.media(),
            quality.peak_to_peer_bps());
    add_leg(updates, "to_client", allocation.peer_to_client,
            allocation.peer_to_client_media.media(), quality.peak_to_client_bps());
    if (const auto lowest = quality.lowest_quality()) {
        updates.add("lowest_quality", Merge::lowest, *lowest, quality.lowest_quality_at_unix_ms());
    }
    add_drops(updates, allocation);
    updates.add("deleted_" + std::string(turn::name_of(reason)), Merge::add, 1);
    return updates.take();
}

}  // namespace hearth::relay
