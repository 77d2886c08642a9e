#include "relay/net/connection_limiter.h"

#include <gtest/gtest.h>

namespace hearth::relay {
namespace {

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

TEST(ConnectionLimiter, BoundsTheTotalAndEachSource) {
    ConnectionLimiter limiter(3, 2);
    EXPECT_EQ(limiter.admit(ip("198.51.100.1")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.admit(ip("198.51.100.1")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.admit(ip("198.51.100.1")), ConnectionLimiter::Result::source_reached);
    EXPECT_EQ(limiter.admit(ip("198.51.100.2")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.admit(ip("198.51.100.3")), ConnectionLimiter::Result::total_reached);
    limiter.release(ip("198.51.100.1"));
    EXPECT_EQ(limiter.admit(ip("198.51.100.3")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.open(), 3u);
}

TEST(ConnectionLimiter, AnIpv6SubscriberRotatingAddressesIsOneSource) {
    ConnectionLimiter limiter(100, 2);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::1")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::2")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::3")), ConnectionLimiter::Result::source_reached);
    limiter.release(ip("2001:db8:1:2::1"));
    EXPECT_EQ(limiter.admit(ip("2001:db8:1:2::3")), ConnectionLimiter::Result::admitted);
    EXPECT_EQ(limiter.open(), 2u);
}

}  // namespace
}  // namespace hearth::relay
