#pragma once

// What an allocation adds to its session's record (auth/session_record.h) when it is
// created and when it ends: its traffic each way, its peak rates and lowest quality (its
// quality track takes a last sample first), its drops and why it ended.

#include <cstdint>
#include <vector>

#include "auth/session_record.h"
#include "relay/turn/allocation.h"
#include "relay/turn/allocation_events.h"

namespace hearth::relay {

std::vector<auth::RecordUpdate> record_created(const turn::Owner& owner, std::int64_t unix_ms);
std::vector<auth::RecordUpdate> record_deleted(const turn::Allocation& allocation,
                                               turn::DeleteReason reason, turn::TimePoint now,
                                               std::int64_t unix_ms);

}  // namespace hearth::relay
