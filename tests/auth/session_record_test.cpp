// Session records: three merge rules that give the same record in any order, the record
// read back per participant and for the session, and the embedded store's keeping of them.

#include "auth/session_record.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "auth/session_records.h"

namespace hearth::auth {
namespace {

TEST(SessionRecordMerge, AddsKeepsTheHighestAndTheLowestWithWhen) {
    FlatRecord record;
    merge_into(record, {{"a", Merge::add, 5}, {"a", Merge::add, -2}});
    merge_into(record, {{"h", Merge::highest, 7}, {"h", Merge::highest, 3}});
    merge_into(record, {{"q", Merge::lowest, 80, 1000},
                        {"q", Merge::lowest, 40, 2000},
                        {"q", Merge::lowest, 60, 3000}});
    EXPECT_EQ(record.at("a"), 3);
    EXPECT_EQ(record.at("h"), 7);
    EXPECT_EQ(record.at("q"), 40);
    EXPECT_EQ(record.at("q_at_unix_ms"), 2000);
}

TEST(SessionRecordMerge, AnyOrderGivesTheSameRecord) {
    // What two nodes send for one session, interleaved in every order.
    std::vector<RecordUpdate> updates{{"session.live", Merge::add, 1},
                                      {"session.live", Merge::add, 1},
                                      {"session.live", Merge::add, -1},
                                      {"session.started_unix_ms", Merge::lowest, 20},
                                      {"session.started_unix_ms", Merge::lowest, 10},
                                      {"session.lowest_quality", Merge::lowest, 70, 500},
                                      {"session.lowest_quality", Merge::lowest, 55, 900},
                                      {"session.to_peer_peak_bps", Merge::highest, 9}};
    FlatRecord first;
    merge_into(first, updates);
    std::sort(updates.begin(), updates.end(),
              [](const auto& a, const auto& b) { return a.value < b.value; });
    do {
        FlatRecord other;
        merge_into(other, updates);
        ASSERT_EQ(other, first);
    } while (std::next_permutation(updates.begin(), updates.end(),
                                   [](const auto& a, const auto& b) { return a.value < b.value; }));
}

FlatRecord call_of_two() {
    return {{"session.live", 0},
            {"session.allocations", 3},
            {"session.started_unix_ms", 10'000},
            {"session.ended_unix_ms", 20'000},
            {"session.to_peer_bytes", 12'500},
            {"session.to_peer_rtp_expected", 100},
            {"session.to_peer_rtp_lost", 4},
            {"session.to_peer_jitter_us", 12'500},
            {"session.lowest_quality", 52},
            {"session.lowest_quality_at_unix_ms", 15'000},
            {"session.dropped_bandwidth", 2},
            {"session.deleted_replaced", 1},
            {"participant.dr.smith.live", 0},
            {"participant.dr.smith.started_unix_ms", 10'000},
            {"participant.dr.smith.ended_unix_ms", 20'000},
            {"participant.client-7.live", 0},
            {"participant.client-7.started_unix_ms", 12'000},
            {"participant.client-7.ended_unix_ms", 14'000}};
}

TEST(SessionRecordRead, ReadsTheSessionAndEachParticipantEvenWithDotsInUserIds) {
    const auto record = read_record(call_of_two(), 99'000);
    EXPECT_TRUE(record.ended);
    EXPECT_EQ(record.end_reason, "last_allocation_gone");
    EXPECT_EQ(record.session.allocations, 3u);
    EXPECT_EQ(record.session.duration_ms, 10'000);
    EXPECT_EQ(record.session.to_peer.bytes, 12'500u);
    EXPECT_EQ(record.session.to_peer.mean_bps, 10'000u);  // 12.5 kB in 10 s
    EXPECT_EQ(record.session.to_peer.rtp_lost, 4u);
    EXPECT_DOUBLE_EQ(record.session.to_peer.jitter_milliseconds, 12.5);
    EXPECT_EQ(record.session.lowest_quality, 52);
    EXPECT_EQ(record.session.lowest_quality_at_unix_ms, 15'000);
    EXPECT_EQ(record.session.dropped.at("bandwidth"), 2u);
    EXPECT_EQ(record.session.deleted.at("replaced"), 1u);
    ASSERT_EQ(record.participants.size(), 2u);
    EXPECT_EQ(record.participants.at("dr.smith").duration_ms, 10'000);
    EXPECT_EQ(record.participants.at("client-7").duration_ms, 2'000);
}

TEST(SessionRecordRead, ALiveSessionRunsUntilNowAndARevokedOneHasEnded) {
    auto fields = call_of_two();
    fields["session.live"] = 1;
    auto record = read_record(fields, 30'000);
    EXPECT_FALSE(record.ended);
    EXPECT_EQ(record.end_reason, "");
    EXPECT_EQ(record.session.ended_unix_ms, 0);
    EXPECT_EQ(record.session.duration_ms, 20'000);

    fields[std::string(revoked_field)] = 25'000;
    record = read_record(fields, 30'000);
    EXPECT_TRUE(record.ended);
    EXPECT_EQ(record.end_reason, "revoked");
}

TEST(EmbeddedSessionRecords, ARecordEndsWithItsLastAllocationAndLivesAgainWithANewOne) {
    EmbeddedSessionRecords records;
    const auto ended_now = [&](std::int64_t now) {
        std::vector<EndedRecord> ended;
        records.ended(now, [&](std::vector<EndedRecord> list) { ended = std::move(list); });
        return ended;
    };
    records.update("s1", {{"session.live", Merge::add, 1}}, 1'000);
    EXPECT_TRUE(ended_now(1'000).empty());
    records.update(
        "s1", {{"session.live", Merge::add, -1}, {"session.ended_unix_ms", Merge::highest, 2'000}},
        2'000);
    auto ended = ended_now(2'000);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0].session, "s1");
    records.update("s1", {{"session.live", Merge::add, 1}}, 3'000);
    EXPECT_TRUE(ended_now(3'000).empty());
    records.update("s1", record_revoked(4'000), 4'000);
    EXPECT_EQ(ended_now(4'000).size(), 1u);
}

TEST(EmbeddedSessionRecords, EndedRecordsAreListedLatestFirstAndForgottenAfterTheWindow) {
    EmbeddedSessionRecords records(std::chrono::hours(1), 2);
    for (const auto& [session, at] :
         {std::pair{"a", 1'000}, std::pair{"b", 2'000}, std::pair{"c", 3'000}}) {
        records.update(session, {{"session.ended_unix_ms", Merge::highest, at}}, at);
    }
    // At most two ended records kept: "a", the oldest, went.
    EXPECT_EQ(records.size(), 2u);
    std::vector<EndedRecord> ended;
    records.ended(3'000, [&](std::vector<EndedRecord> list) { ended = std::move(list); });
    ASSERT_EQ(ended.size(), 2u);
    EXPECT_EQ(ended[0].session, "c");
    EXPECT_EQ(ended[1].session, "b");
    FlatRecord fields{{"x", 1}};
    records.read("a", [&](FlatRecord found) { fields = std::move(found); });
    EXPECT_TRUE(fields.empty());
    // An hour after "c" ended, nothing is left; a live record stays however old.
    records.update("live", {{"session.live", Merge::add, 1}}, 3'000);
    records.update("d", {{"session.ended_unix_ms", Merge::highest, 5'000'000}}, 5'000'000);
    EXPECT_EQ(records.size(), 2u);
    records.read("live", [&](FlatRecord found) { fields = std::move(found); });
    EXPECT_EQ(fields.at("session.live"), 1);
}

}  // namespace
}  // namespace hearth::auth
