// ParkedRequests: requests parked under the question they wait on, and every bound.

#include "relay/net/parked_requests.h"

#include <gtest/gtest.h>

#include <vector>

namespace hearth::relay {
namespace {

class NullLink final : public turn::ClientLink {
  public:
    bool send_to_client(const TransportAddress&, stun::Bytes) override { return true; }
    bool is_stream() const override { return false; }
};

class ParkedRequestsTest : public ::testing::Test {
  protected:
    ParkedRequests table_{ParkedRequests::Limits{8, 3, std::chrono::seconds(10)}};
    NullLink link_;
    NullLink other_link_;
    const turn::TimePoint start_{};
    const turn::StoreQuestion alice_{turn::StoreQuestion::Kind::check, "s1", "alice"};
    const turn::StoreQuestion bob_{turn::StoreQuestion::Kind::check, "s1", "bob"};
    const std::vector<std::byte> bytes_ = std::vector<std::byte>(20, std::byte{1});

    static turn::FiveTuple from(std::string_view client) {
        return {*TransportAddress::parse(client), *TransportAddress::parse("192.0.2.1:3478"),
                turn::ClientTransport::udp};
    }
    static stun::TransactionId transaction(int number) {
        stun::TransactionId id{};
        id[0] = static_cast<std::byte>(number);
        id[1] = static_cast<std::byte>(number >> 8);
        return id;
    }
    ParkedRequests::Result park(const turn::StoreQuestion& question, std::string_view client,
                                int number, turn::ClientLink* link = nullptr) {
        return table_.park(question, from(client), link != nullptr ? *link : link_, bytes_,
                           transaction(number), start_);
    }
};

TEST_F(ParkedRequestsTest, AnAnswerResumesOnlyWhatWaitedOnItEachOnce) {
    EXPECT_EQ(park(alice_, "198.51.100.1:1000", 1), ParkedRequests::Result::parked);
    EXPECT_EQ(park(bob_, "198.51.100.2:1000", 2), ParkedRequests::Result::parked);
    EXPECT_EQ(park(alice_, "198.51.100.3:1000", 3), ParkedRequests::Result::parked);
    const auto resumed = table_.take(alice_);
    ASSERT_EQ(resumed.size(), 2u);
    EXPECT_EQ(resumed[0].transaction_id, transaction(1));  // in the order they came
    EXPECT_EQ(resumed[1].transaction_id, transaction(3));
    EXPECT_TRUE(table_.take(alice_).empty());  // handed out once
    EXPECT_EQ(table_.size(), 1u);
    EXPECT_EQ(table_.take(bob_).size(), 1u);
}

// A rejoin's reservation may be answered with a replacement, a plain one may not: an
// answer to one resumes only the requests that asked it.
TEST_F(ParkedRequestsTest, AReservationThatMayReplaceWaitsOnItsOwnAnswer) {
    const turn::StoreQuestion admit{turn::StoreQuestion::Kind::admit, "s1", "alice"};
    const turn::StoreQuestion admit_or_replace{turn::StoreQuestion::Kind::admit_or_replace, "s1",
                                               "alice"};
    EXPECT_EQ(park(admit, "198.51.100.1:1000", 1), ParkedRequests::Result::parked);
    EXPECT_EQ(park(admit_or_replace, "198.51.100.1:1001", 2), ParkedRequests::Result::parked);
    const auto resumed = table_.take(admit_or_replace);
    ASSERT_EQ(resumed.size(), 1u);
    EXPECT_EQ(resumed[0].transaction_id, transaction(2));
    EXPECT_EQ(table_.take(admit).size(), 1u);
}

TEST_F(ParkedRequestsTest, ARetransmissionIsNotParkedTwice) {
    EXPECT_EQ(park(alice_, "198.51.100.1:1000", 1), ParkedRequests::Result::parked);
    EXPECT_EQ(park(alice_, "198.51.100.1:1000", 1), ParkedRequests::Result::already_parked);
    // The same transaction from another 5-tuple is another request.
    EXPECT_EQ(park(alice_, "198.51.100.1:1001", 1), ParkedRequests::Result::parked);
    EXPECT_EQ(table_.take(alice_).size(), 2u);
    // Once handed in, the transaction may be parked again (it waits on a new question).
    EXPECT_EQ(park(alice_, "198.51.100.1:1000", 1), ParkedRequests::Result::parked);
}

TEST_F(ParkedRequestsTest, OneSourceGetsItsShareOnlyAndAnIpv6SourceIsItsSlash64) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(park(alice_, "[2001:db8::1]:1000", i), ParkedRequests::Result::parked);
    }
    EXPECT_EQ(park(alice_, "[2001:db8::ffff]:1000", 9), ParkedRequests::Result::source_full);
    EXPECT_EQ(park(alice_, "[2001:db8:0:1::1]:1000", 9), ParkedRequests::Result::parked);
    table_.take(alice_);
    EXPECT_EQ(park(alice_, "[2001:db8::ffff]:1000", 9), ParkedRequests::Result::parked);
}

TEST_F(ParkedRequestsTest, TheTableIsBoundedInAll) {
    for (int i = 0; i < 8; ++i) {
        const std::string client = "198.51.100." + std::to_string(i) + ":1000";
        EXPECT_EQ(park(alice_, client, i), ParkedRequests::Result::parked);
    }
    EXPECT_EQ(park(bob_, "203.0.113.1:1000", 99), ParkedRequests::Result::table_full);
    EXPECT_EQ(table_.size(), 8u);
}

TEST_F(ParkedRequestsTest, AClosedConnectionTakesItsRequestsAlong) {
    park(alice_, "198.51.100.1:1000", 1);
    park(alice_, "198.51.100.2:1000", 2, &other_link_);
    park(bob_, "198.51.100.2:1000", 3, &other_link_);
    table_.forget(other_link_);
    const auto resumed = table_.take(alice_);
    ASSERT_EQ(resumed.size(), 1u);
    EXPECT_EQ(resumed[0].link, &link_);
    EXPECT_TRUE(table_.take(bob_).empty());
    EXPECT_EQ(table_.size(), 0u);
    // Its share of the source is free again.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(park(alice_, "198.51.100.2:1000", 10 + i), ParkedRequests::Result::parked);
    }
}

TEST_F(ParkedRequestsTest, NothingWaitsLongerThanMaxWait) {
    park(alice_, "198.51.100.1:1000", 1);
    EXPECT_EQ(table_.expire(start_ + std::chrono::seconds(9)), 0u);
    EXPECT_EQ(table_.expire(start_ + std::chrono::seconds(10)), 1u);
    EXPECT_TRUE(table_.take(alice_).empty());
    EXPECT_EQ(table_.size(), 0u);
}

}  // namespace
}  // namespace hearth::relay
