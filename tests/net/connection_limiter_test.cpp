#include "relay/net/connection_limiter.h"

#include <gtest/gtest.h>

namespace hearth::relay {
namespace {

using Result = ConnectionLimiter::Result;

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

// Admits `count` connections from `source` and marks them authenticated (allocated).
void authenticate(ConnectionLimiter& limiter, const char* source, int count) {
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(limiter.admit(ip(source), 0), Result::admitted) << source << " " << i;
        limiter.authenticated(ip(source), 0);
    }
}

TEST(ConnectionLimiter, BoundsTheTotalAndEachSource) {
    ConnectionLimiter limiter(3, 2, 100);
    EXPECT_EQ(limiter.admit(ip("198.51.100.1"), 0), Result::admitted);
    EXPECT_EQ(limiter.admit(ip("198.51.100.1"), 0), Result::admitted);
    EXPECT_EQ(limiter.admit(ip("198.51.100.1"), 0), Result::source_reached);
    EXPECT_EQ(limiter.admit(ip("198.51.100.2"), 0), Result::admitted);
    EXPECT_EQ(limiter.admit(ip("198.51.100.3"), 0), Result::total_reached);
    limiter.release(ip("198.51.100.1"), 0, false);
    EXPECT_EQ(limiter.admit(ip("198.51.100.3"), 0), Result::admitted);
    EXPECT_EQ(limiter.open(), 3u);
}

TEST(ConnectionLimiter, AnIpv6SubscriberRotatingAddressesIsOneSource) {
    ConnectionLimiter limiter(100, 2, 100);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::1"), 0), Result::admitted);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::2"), 0), Result::admitted);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::3"), 0), Result::source_reached);
    limiter.release(ip("2001:db8:1:2::1"), 0, false);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::3"), 0), Result::admitted);
    EXPECT_EQ(limiter.open(), 2u);
}

// Issue 17: connections without an allocation hold at most their share of the node's
// bound; the rest stays for connections that made one.
TEST(ConnectionLimiter, UnauthenticatedConnectionsHoldOnlyTheirShareOfTheNode) {
    ConnectionLimiter limiter(10, 10, 40);  // 4 of 10 unauthenticated
    for (const char* stranger : {"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"}) {
        EXPECT_EQ(limiter.admit(ip(stranger), 0), Result::admitted);
    }
    EXPECT_EQ(limiter.admit(ip("203.0.113.5"), 0), Result::unauthenticated_reached);
    EXPECT_EQ(limiter.unauthenticated_open(), 4u);
    // A participant's connection that made its allocation leaves the share...
    limiter.release(ip("203.0.113.1"), 0, false);
    authenticate(limiter, "198.51.100.7", 1);
    EXPECT_EQ(limiter.unauthenticated_open(), 3u);
    EXPECT_EQ(limiter.admit(ip("203.0.113.5"), 0), Result::admitted);
    // ... and those with allocations may use the whole bound.
    limiter.release(ip("203.0.113.5"), 0, false);
    authenticate(limiter, "198.51.100.8", 6);
    EXPECT_EQ(limiter.open(), 10u);
    EXPECT_EQ(limiter.admit(ip("198.51.100.9"), 0), Result::total_reached);
    limiter.release(ip("198.51.100.8"), 0, true);
    EXPECT_EQ(limiter.unauthenticated_open(), 3u);
    EXPECT_EQ(limiter.open(), 9u);
}

TEST(ConnectionLimiter, UnauthenticatedConnectionsHoldOnlyTheirShareOfASource) {
    ConnectionLimiter limiter(100, 8, 50);  // 4 of a source's 8 unauthenticated
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(limiter.admit(ip("198.51.100.7"), 0), Result::admitted);
    }
    EXPECT_EQ(limiter.admit(ip("198.51.100.7"), 0), Result::source_unauthenticated_reached);
    EXPECT_EQ(limiter.admit(ip("198.51.100.8"), 0), Result::admitted);  // another source
    limiter.authenticated(ip("198.51.100.7"), 0);
    EXPECT_EQ(limiter.admit(ip("198.51.100.7"), 0), Result::admitted);
}

TEST(ConnectionLimiter, RefusalsAreCountedByTheBoundTheCallerGivesUpOn) {
    ConnectionLimiter limiter(1, 1, 100);
    limiter.count_refusal(Result::total_reached);
    limiter.count_refusal(Result::source_reached);
    limiter.count_refusal(Result::unauthenticated_reached);
    limiter.count_refusal(Result::source_unauthenticated_reached);
    limiter.count_refusal(Result::admitted);
    EXPECT_EQ(limiter.refused_total(), 1u);
    EXPECT_EQ(limiter.refused_per_source(), 1u);
    EXPECT_EQ(limiter.refused_unauthenticated(), 2u);
}

TEST(ConnectionLimiter, AReloadChangesTheShareForNewConnections) {
    ConnectionLimiter limiter(10, 10, 10);  // one unauthenticated connection at a time
    EXPECT_EQ(limiter.admit(ip("203.0.113.1"), 0), Result::admitted);
    EXPECT_EQ(limiter.admit(ip("203.0.113.2"), 0), Result::unauthenticated_reached);
    limiter.set_limits(10, 10, 50);
    EXPECT_EQ(limiter.admit(ip("203.0.113.2"), 0), Result::admitted);
}

// Strangers steering all their connections to one worker fill only that worker's part of
// the share: newcomers on another have room, and those on theirs can take their places.
TEST(ConnectionLimiter, EachWorkerHoldsItsPartOfTheUnauthenticatedShare) {
    ConnectionLimiter limiter(16, 16, 50);  // 8 unauthenticated on the node
    limiter.set_workers(2);                 // 4 on each worker
    for (const char* stranger : {"203.0.113.2", "203.0.113.4", "203.0.113.6", "203.0.113.8"}) {
        EXPECT_EQ(limiter.admit(ip(stranger), 0), Result::admitted);
    }
    EXPECT_EQ(limiter.admit(ip("203.0.113.10"), 0), Result::unauthenticated_reached);
    EXPECT_EQ(limiter.admit(ip("198.51.100.7"), 1), Result::admitted);
    limiter.release(ip("203.0.113.2"), 0, false);
    EXPECT_EQ(limiter.admit(ip("198.51.100.8"), 0), Result::admitted);
    EXPECT_EQ(limiter.unauthenticated_open(), 5u);
}

}  // namespace
}  // namespace hearth::relay
