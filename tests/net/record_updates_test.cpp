// What an allocation adds to its session's record, for the session and its participant
// alike, read back as the admin API reads it.

#include "relay/net/record_updates.h"

#include <gtest/gtest.h>

namespace hearth::relay {
namespace {

class RecordUpdatesTest : public ::testing::Test {
  protected:
    RecordUpdatesTest()
        : allocation_(7,
                      turn::FiveTuple{*TransportAddress::parse("198.51.100.7:40000"),
                                      *TransportAddress::parse("192.0.2.1:3478"),
                                      turn::ClientTransport::udp},
                      turn::Owner{"1:s1:alice", "s1", "alice", 0}, 4, 4) {
        allocation_.created = start_;
        allocation_.quality.start(start_);
    }
    const turn::TimePoint start_ = turn::TimePoint{} + std::chrono::hours(1);
    turn::Allocation allocation_;
};

TEST_F(RecordUpdatesTest, ACreatedAllocationCountsForTheSessionAndItsParticipant) {
    auth::FlatRecord fields;
    auth::merge_into(fields, record_created(allocation_.owner(), 5'000));
    EXPECT_EQ(fields.at("session.live"), 1);
    EXPECT_EQ(fields.at("participant.alice.live"), 1);
    EXPECT_EQ(fields.at("session.started_unix_ms"), 5'000);
    EXPECT_EQ(fields.at("participant.alice.allocations"), 1);
}

TEST_F(RecordUpdatesTest, AnEndedAllocationBringsItsTrafficQualityDropsAndReason) {
    allocation_.client_to_peer.bytes = 10'000;
    allocation_.client_to_peer.packets = 100;
    allocation_.client_to_peer.dropped_bandwidth = 3;
    allocation_.peer_to_client.bytes = 2'000;
    allocation_.peer_to_client.packets = 20;
    allocation_.peer_to_client.dropped_no_permission = 1;
    auth::FlatRecord fields;
    auth::merge_into(fields, record_created(allocation_.owner(), 5'000));
    // The whole life is one quality interval: 2 s, ended by the last sample at deletion.
    auth::merge_into(fields, record_deleted(allocation_, turn::DeleteReason::replaced,
                                            start_ + std::chrono::seconds(2), 7'000));

    const auto record = auth::read_record(fields, 9'000);
    EXPECT_TRUE(record.ended);
    const auto& alice = record.participants.at("alice");
    EXPECT_EQ(alice.live, 0);
    EXPECT_EQ(alice.duration_ms, 2'000);
    EXPECT_EQ(alice.to_peer.bytes, 10'000u);
    EXPECT_EQ(alice.to_peer.packets, 100u);
    EXPECT_EQ(alice.to_peer.peak_bps, 40'000u);  // 10 kB in 2 s
    EXPECT_EQ(alice.to_client.peak_bps, 8'000u);
    EXPECT_EQ(alice.dropped.at("bandwidth"), 3u);
    EXPECT_EQ(alice.dropped.at("no_permission"), 1u);
    EXPECT_EQ(alice.deleted.at("replaced"), 1u);
    // 4 drops of 124 packets: 3.2 % dropped costs 10 points (quality_score).
    EXPECT_EQ(alice.lowest_quality, 90);
    EXPECT_EQ(alice.lowest_quality_at_unix_ms, 7'000);
    EXPECT_EQ(record.session.to_peer.bytes, alice.to_peer.bytes);
}

}  // namespace
}  // namespace hearth::relay
