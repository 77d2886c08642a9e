// ChannelData messages over UDP (RFC 8656 §12.4).

#include "relay/stun/channel_data.h"

#include <gtest/gtest.h>

#include <vector>

#include "byte_helpers.h"

namespace hearth::stun {
namespace {

using testing::bytes;
using testing::message_with;
using testing::to_hex;

static_assert(is_valid_channel_number(0x4000));
static_assert(is_valid_channel_number(0x4FFF));
static_assert(is_valid_channel_number(max_channel_number));
static_assert(!is_valid_channel_number(0x3FFF));
static_assert(!is_valid_channel_number(0x8000));

TEST(ChannelData, ParsesChannelAndPayload) {
    const auto datagram = bytes({0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c'});
    const auto parsed = parse_channel_data(datagram);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->channel_number, 0x4001);
    ASSERT_EQ(parsed->payload.size(), 3u);
    EXPECT_EQ(parsed->payload.data(), datagram.data() + 4) << "a view, not a copy";
}

TEST(ChannelData, PaddingIsOptionalOverUdp) {
    for (const auto& datagram : {bytes({0x40, 0x00, 0x00, 0x02, 'h', 'i'}),
                                 bytes({0x40, 0x00, 0x00, 0x02, 'h', 'i', 0, 0})}) {
        const auto parsed = parse_channel_data(datagram);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->payload.size(), 2u) << "padding is not payload";
    }
}

TEST(ChannelData, EnforcesChannelRangeAndLength) {
    struct Case {
        const char* name;
        std::vector<std::byte> datagram;
        bool valid;
    };
    const Case cases[] = {
        {"empty payload", bytes({0x40, 0x00, 0x00, 0x00}), true},
        {"lowest channel", bytes({0x40, 0x00, 0x00, 0x00}), true},
        {"highest RFC 8656 channel", bytes({0x4F, 0xFF, 0x00, 0x00}), true},
        {"highest RFC 5766 channel", bytes({0x7F, 0xFF, 0x00, 0x00}), true},
        {"below the range", bytes({0x3F, 0xFF, 0x00, 0x00}), false},
        {"above the range", bytes({0x80, 0x00, 0x00, 0x00}), false},
        {"zero", bytes({0x00, 0x00, 0x00, 0x00}), false},
        {"header cut short", bytes({0x40, 0x00, 0x00}), false},
        {"nothing", {}, false},
        {"length one past the bytes", bytes({0x40, 0x00, 0x00, 0x03, 'a', 'b'}), false},
        {"length far past the bytes", bytes({0x40, 0x00, 0xFF, 0xFF, 'a', 'b'}), false},
    };
    for (const auto& test : cases) {
        EXPECT_EQ(parse_channel_data(test.datagram).has_value(), test.valid) << test.name;
    }
}

TEST(ChannelData, AcceptsTheLargestPayload) {
    std::vector<std::byte> datagram(4 + 65535);
    write_channel_data_header(std::span<std::byte, 4>(datagram.data(), 4), 0x4ABC, 65535);
    const auto parsed = parse_channel_data(datagram);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->payload.size(), 65535u);
}

TEST(ChannelData, WritesTheHeaderItParses) {
    std::array<std::byte, 9> datagram{};
    write_channel_data_header(std::span<std::byte, 4>(datagram.data(), 4), 0x4123, 5);
    EXPECT_EQ(to_hex(Bytes(datagram).first(4)), "41230005");
    const auto parsed = parse_channel_data(datagram);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->channel_number, 0x4123);
    EXPECT_EQ(parsed->payload.size(), 5u);
}

TEST(ChannelData, TellsItselfFromStun) {
    // RFC 7983 §7: first two bits 01 for ChannelData, 00 for STUN.
    EXPECT_TRUE(looks_like_channel_data(bytes({0x40, 0x00, 0x00, 0x00})));
    EXPECT_TRUE(looks_like_channel_data(bytes({0x7F, 0xFF, 0x00, 0x00})));
    EXPECT_FALSE(looks_like_channel_data(bytes({0x40, 0x00, 0x00})));
    EXPECT_FALSE(looks_like_channel_data(bytes({0x80, 0x00, 0x00, 0x00})));
    EXPECT_FALSE(looks_like_channel_data(bytes({0xC0, 0x00, 0x00, 0x00})));
    EXPECT_FALSE(looks_like_channel_data(message_with({})));
}

}  // namespace
}  // namespace hearth::stun
