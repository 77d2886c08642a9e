#include "relay/turn/source_ban_list.h"

#include "relay/turn/source_prefix.h"

namespace hearth::turn {

namespace {
std::size_t slot_of(const IpAddress& source) {
    return TransportAddressHash{}(TransportAddress{source, 0});
}
}  // namespace

const SourceBanList::Entry* SourceBanList::find(const IpAddress& source) const {
    const std::size_t hash = slot_of(source);
    for (std::size_t probe = 0; probe < probe_limit; ++probe) {
        const Entry& entry = entries_[(hash + probe) & (table_size - 1)];
        if (entry.used && entry.source == source) {
            return &entry;
        }
    }
    return nullptr;
}

bool SourceBanList::banned(const IpAddress& address, TimePoint now) const {
    if (max_failures_ == 0) {
        return false;
    }
    const IpAddress source = source_prefix(address);
    const std::lock_guard lock(mutex_);
    const Entry* entry = find(source);
    return entry != nullptr && now < entry->banned_until;
}

bool SourceBanList::record_failure(const IpAddress& address, TimePoint now) {
    if (max_failures_ == 0) {
        return false;
    }
    const IpAddress source = source_prefix(address);
    const std::lock_guard lock(mutex_);
    Entry* entry = const_cast<Entry*>(find(source));
    if (entry == nullptr) {
        // A new source takes the slot used longest ago.
        const std::size_t hash = slot_of(source);
        for (std::size_t probe = 0; probe < probe_limit; ++probe) {
            Entry& candidate = entries_[(hash + probe) & (table_size - 1)];
            if (entry == nullptr || !candidate.used ||
                candidate.window_start < entry->window_start) {
                entry = &candidate;
            }
        }
        *entry = Entry{source, now, TimePoint{}, 0, true};
    }
    if (now - entry->window_start > window_) {
        entry->window_start = now;
        entry->failures = 0;
    }
    if (++entry->failures < max_failures_ || now < entry->banned_until) {
        return false;
    }
    entry->banned_until = now + ban_;
    entry->failures = 0;
    return true;
}

Seconds SourceBanList::ban_duration() const {
    std::lock_guard lock(mutex_);
    return ban_;
}

void SourceBanList::configure(std::uint32_t max_failures, Seconds window, Seconds ban) {
    std::lock_guard lock(mutex_);
    max_failures_ = max_failures;
    window_ = window;
    ban_ = ban;
}

}  // namespace hearth::turn
