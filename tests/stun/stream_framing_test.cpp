// Framing STUN and ChannelData on TCP/TLS streams (RFC 8656 §12.5, RFC 8489 §6.2.2).

#include "relay/stun/stream_framing.h"

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "byte_helpers.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/message_builder.h"

namespace hearth::stun {
namespace {

using testing::append;
using testing::bytes;
using testing::test_transaction_id;

Frame frame_of(Bytes buffered) {
    const auto result = next_frame(buffered);
    EXPECT_TRUE(std::holds_alternative<Frame>(result));
    return std::holds_alternative<Frame>(result) ? std::get<Frame>(result) : Frame{};
}

std::vector<std::byte> binding_request(std::string_view software) {
    std::array<std::byte, 128> buffer{};
    MessageBuilder builder(buffer, Method::binding, MessageClass::request, test_transaction_id);
    builder.add_string(attribute::software, software);
    builder.add_fingerprint();
    const auto built = builder.finish();
    return {built.begin(), built.end()};
}

std::vector<std::byte> channel_data(std::uint16_t channel, std::size_t payload_length,
                                    bool padded) {
    std::vector<std::byte> out(4 + payload_length, std::byte{0x5A});
    write_channel_data_header(std::span<std::byte, 4>(out.data(), 4), channel,
                              static_cast<std::uint16_t>(payload_length));
    while (padded && out.size() % 4 != 0) {
        out.push_back(std::byte{0});
    }
    return out;
}

TEST(StreamFraming, NeedsFourBytesToKnowTheLength) {
    const auto stun = binding_request("x");
    const auto channel = channel_data(0x4000, 8, true);
    for (std::size_t size = 0; size < 4; ++size) {
        EXPECT_TRUE(std::holds_alternative<NeedMoreBytes>(next_frame(Bytes(stun).first(size))));
        EXPECT_TRUE(std::holds_alternative<NeedMoreBytes>(next_frame(Bytes(channel).first(size))));
    }
    EXPECT_EQ(frame_of(Bytes(stun).first(4)).size, stun.size());
    EXPECT_EQ(frame_of(Bytes(channel).first(4)).size, channel.size());
}

TEST(StreamFraming, StunFrameIsHeaderPlusLength) {
    const auto stun = binding_request("hearth");
    const auto frame = frame_of(stun);
    EXPECT_EQ(frame.kind, FrameKind::stun);
    EXPECT_EQ(frame.size, stun.size());
    EXPECT_EQ(frame.message_size, stun.size());
}

TEST(StreamFraming, ChannelDataIsPaddedToFourOnStreams) {
    for (std::size_t length = 0; length <= 8; ++length) {
        const auto header = channel_data(0x4001, length, false);
        const auto frame = frame_of(Bytes(header).first(4));
        EXPECT_EQ(frame.kind, FrameKind::channel_data);
        EXPECT_EQ(frame.message_size, 4 + length);
        EXPECT_EQ(frame.size, (4 + length + 3) / 4 * 4) << length;
    }
}

TEST(StreamFraming, LargestChannelDataIsNotTooLong) {
    const auto frame = frame_of(bytes({0x40, 0x00, 0xFF, 0xFF}));
    EXPECT_EQ(frame.message_size, 65539u);
    EXPECT_EQ(frame.size, 65540u);
}

TEST(StreamFraming, RefusesOversizedStunAndOtherFirstBits) {
    const std::size_t largest_length = max_message_size - header_size;
    EXPECT_EQ(frame_of(bytes({0x00, 0x01, static_cast<int>(largest_length >> 8),
                              static_cast<int>(largest_length & 0xFF)}))
                  .size,
              max_message_size);
    const std::size_t over = largest_length + 4;
    const auto too_long =
        next_frame(bytes({0x00, 0x01, static_cast<int>(over >> 8), static_cast<int>(over & 0xFF)}));
    ASSERT_TRUE(std::holds_alternative<FramingError>(too_long));
    EXPECT_EQ(std::get<FramingError>(too_long), FramingError::too_long);

    for (const int first : {0x80, 0xBF, 0xC0, 0xFF}) {
        const auto result = next_frame(bytes({first, 0x00, 0x00, 0x00}));
        ASSERT_TRUE(std::holds_alternative<FramingError>(result)) << first;
        EXPECT_EQ(std::get<FramingError>(result), FramingError::not_stun_or_channel_data);
    }
}

TEST(StreamFraming, SplitsCoalescedFrames) {
    const auto first = binding_request("one");
    const auto second = channel_data(0x4002, 5, true);
    const auto third = binding_request("three");
    const auto fourth = channel_data(0x4003, 8, true);
    std::vector<std::byte> stream;
    for (const auto* part : {&first, &second, &third, &fourth}) {
        append(stream, *part);
    }

    std::vector<FrameKind> kinds;
    Bytes rest = stream;
    while (!rest.empty()) {
        const auto frame = frame_of(rest);
        ASSERT_LE(frame.size, rest.size());
        const auto message = rest.first(frame.message_size);
        if (frame.kind == FrameKind::stun) {
            EXPECT_TRUE(MessageView::parse(message).has_value());
        } else {
            EXPECT_TRUE(parse_channel_data(message).has_value());
        }
        kinds.push_back(frame.kind);
        rest = rest.subspan(frame.size);
    }
    EXPECT_EQ(kinds, (std::vector<FrameKind>{FrameKind::stun, FrameKind::channel_data,
                                             FrameKind::stun, FrameKind::channel_data}));
    EXPECT_TRUE(std::holds_alternative<NeedMoreBytes>(next_frame(rest)));
}

TEST(StreamFraming, ReassemblesAFrameArrivingByteByByte) {
    // The caller buffers until it holds `size` bytes, then takes the frame.
    std::vector<std::byte> stream = binding_request("slow");
    append(stream, channel_data(0x4004, 3, true));
    std::vector<std::byte> buffered;
    std::vector<std::size_t> frame_ends;
    for (const auto byte : stream) {
        buffered.push_back(byte);
        const auto result = next_frame(buffered);
        if (const auto* frame = std::get_if<Frame>(&result);
            frame && frame->size <= buffered.size()) {
            frame_ends.push_back(frame_ends.empty() ? frame->size
                                                    : frame_ends.back() + frame->size);
            buffered.erase(buffered.begin(),
                           buffered.begin() + static_cast<std::ptrdiff_t>(frame->size));
        } else {
            EXPECT_FALSE(std::holds_alternative<FramingError>(result));
        }
    }
    EXPECT_TRUE(buffered.empty());
    EXPECT_EQ(frame_ends, (std::vector<std::size_t>{stream.size() - 8, stream.size()}));
}

}  // namespace
}  // namespace hearth::stun
