#include "relay/turn/source_ban_list.h"

#include <functional>

#include "relay/turn/source_prefix.h"

namespace hearth::turn {

namespace {

// Never 0, which marks an entry of the table of sources. Unkeyed: choosing a username that
// lands on another's entry needs that username, and with it one can fail it directly.
std::uint64_t username_hash(std::string_view username) {
    const std::uint64_t hash = std::hash<std::string_view>{}(username);
    return hash == 0 ? 1 : hash;
}

std::size_t slot_of(const IpAddress& source, std::uint64_t username) {
    return TransportAddressHash{}(TransportAddress{source, 0}) ^ (username * 0x9E3779B97F4A7C15ULL);
}

}  // namespace

const SourceBanList::Entry* SourceBanList::find(std::span<const Entry> table,
                                                const IpAddress& source, std::uint64_t username) {
    const std::size_t hash = slot_of(source, username);
    for (std::size_t probe = 0; probe < probe_limit; ++probe) {
        const Entry& entry = table[(hash + probe) & (table.size() - 1)];
        if (entry.used && entry.source == source && entry.username == username) {
            return &entry;
        }
    }
    return nullptr;
}

// The entry of (source, username), or a new one in the slot that matters least: a free
// one, else one whose ban is over (or never began), the one used longest ago among them.
SourceBanList::Entry& SourceBanList::find_or_take(std::span<Entry> table, const IpAddress& source,
                                                  std::uint64_t username, TimePoint now) {
    if (const Entry* found = find(table, source, username)) {
        return const_cast<Entry&>(*found);
    }
    const std::size_t hash = slot_of(source, username);
    const auto rank = [now](const Entry& entry) { return entry.used + (now < entry.banned_until); };
    Entry* chosen = nullptr;
    for (std::size_t probe = 0; probe < probe_limit; ++probe) {
        Entry& candidate = table[(hash + probe) & (table.size() - 1)];
        if (chosen == nullptr || rank(candidate) < rank(*chosen) ||
            (rank(candidate) == rank(*chosen) && candidate.window_start < chosen->window_start)) {
            chosen = &candidate;
        }
    }
    *chosen = Entry{source, username, now, TimePoint{}, 0, true};
    return *chosen;
}

// One more failure on `entry`; true when it starts a ban. A ban in force runs its course
// unchanged, and counting starts afresh once it is over.
bool SourceBanList::count_failure(Entry& entry, std::uint32_t max_failures, TimePoint now) const {
    if (now - entry.window_start > window_) {
        entry.window_start = now;
        entry.failures = 0;
    }
    if (++entry.failures < max_failures || now < entry.banned_until) {
        return false;
    }
    entry.banned_until = now + ban_;
    entry.failures = 0;
    return true;
}

SourceBanList::Standing SourceBanList::standing(const IpAddress& address, std::string_view username,
                                                TimePoint now) const {
    const IpAddress source = source_prefix(address);
    const std::lock_guard lock(mutex_);
    if (max_failures_ != 0 && !username.empty()) {
        const Entry* entry = find(usernames_, source, username_hash(username));
        if (entry != nullptr && now < entry->banned_until) {
            return Standing::username_banned;
        }
    }
    if (max_source_failures_ != 0) {
        const Entry* entry = find(sources_, source, 0);
        if (entry != nullptr && now < entry->banned_until) {
            return Standing::source_throttled;
        }
    }
    return Standing::clear;
}

SourceBanList::Started SourceBanList::record_failure(const IpAddress& address,
                                                     std::string_view username, TimePoint now) {
    const IpAddress source = source_prefix(address);
    const std::lock_guard lock(mutex_);
    Started started;
    if (max_failures_ != 0 && !username.empty()) {
        Entry& entry = find_or_take(usernames_, source, username_hash(username), now);
        started.username_ban = count_failure(entry, max_failures_, now);
    }
    if (max_source_failures_ != 0) {
        Entry& entry = find_or_take(sources_, source, 0, now);
        started.source_throttle = count_failure(entry, max_source_failures_, now);
    }
    return started;
}

Seconds SourceBanList::ban_duration() const {
    std::lock_guard lock(mutex_);
    return ban_;
}

void SourceBanList::configure(std::uint32_t max_failures, Seconds window, Seconds ban,
                              std::uint32_t max_source_failures) {
    std::lock_guard lock(mutex_);
    max_failures_ = max_failures;
    max_source_failures_ = max_source_failures;
    window_ = window;
    ban_ = ban;
}

}  // namespace hearth::turn
