// The XDP fast path run by the kernel (bpf_prog_test_run) on hand-built frames between
// loopback addresses: bpf_fib_lookup finds them local (NOT_FWDED), so a carried datagram
// comes back as XDP_PASS with the rewritten frame, whose checksums are checked from scratch.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "tests/xdp/fast_path_fixture.h"

namespace hearth::xdp::test {
namespace {

TEST_F(FastPathTest, StripsChannelDataIpv4) {
    const Channel c = channel_v4(20000, 1);
    install(*program_, c);
    const Bytes data = data_of(10, 0x80);
    expect_stripped(run(*program_, from_client(c, test::channel_data(channel, data))), c, data);
    EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 1u);
    const hearth_fp_counters counters = program_->read_counters(c.slot);
    EXPECT_EQ(counters.to_peer_packets, 1u);
    EXPECT_EQ(counters.to_peer_bytes, 10u);
    EXPECT_EQ(counters.to_client_packets, 0u);
    EXPECT_EQ(program_->allowance(c.slot).to_peer_bytes, (1 << 20) - 10);
}

// ChannelData may carry less data than its own header: 1 to 3 bytes (RFC 8656 §12.4).
TEST_F(FastPathTest, StripsDataShorterThanTheChannelDataHeader) {
    const Channel c = channel_v4(20050, 12);
    install(*program_, c);
    for (std::size_t size = 0; size <= 4; ++size) {
        const Bytes data = data_of(size, 0x40);
        expect_stripped(run(*program_, from_client(c, test::channel_data(channel, data))), c, data);
    }
    EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 5u);
}

// A local destination reached from lo over IPv6 has no checksum-free form to be handed
// to the stack in (fast_path.bpf.c, route): userspace relays it. forwarding_test.cpp
// carries IPv6 on veth pairs.
TEST_F(FastPathTest, Ipv6ToThisHostGoesToUserspace) {
    const Channel c = channel_v6(20100, 2);
    install(*program_, c);
    const Bytes data = data_of(33, 0x90);
    const Bytes frame = from_client(c, test::channel_data(channel, data));
    const Verdict result = run(*program_, frame);
    EXPECT_EQ(result.verdict, XDP_PASS);
    EXPECT_EQ(result.frame, frame);
    EXPECT_EQ(outcome_delta(HEARTH_FP_PASS_LOCAL), 1u);
    EXPECT_EQ(program_->read_counters(c.slot).to_peer_packets, 0u);
    EXPECT_EQ(run(*program_, from_peer(c, data)).frame, from_peer(c, data));
    EXPECT_EQ(outcome_delta(HEARTH_FP_PASS_LOCAL), 2u) << "since the test began";
}

TEST_F(FastPathTest, WrapsIpv4) {
    const Channel c = channel_v4(20200, 3);
    install(*program_, c);
    const Bytes data = data_of(13, 0x80);  // odd: the checksum's last byte is padded
    expect_wrapped(run(*program_, from_peer(c, data)), c, c.server, data);
    const hearth_fp_counters counters = program_->read_counters(c.slot);
    EXPECT_EQ(counters.to_client_packets, 1u);
    EXPECT_EQ(counters.to_client_bytes, 13u);
    EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 1u);
}

TEST_F(FastPathTest, Ipv4WithoutChecksumStaysWithout) {
    const Channel c = channel_v4(20400, 5);
    install(*program_, c);
    const Bytes data = data_of(8, 0x80);
    const Verdict wrapped = run(*program_, from_peer(c, data, true));
    ASSERT_EQ(wrapped.verdict, XDP_PASS);
    EXPECT_EQ(test::parse(wrapped.frame).udp_checksum, 0);
    EXPECT_EQ(test::parse(wrapped.frame).payload, test::channel_data(channel, data));
    const Verdict stripped =
        run(*program_, from_client(c, test::channel_data(channel, data), true));
    EXPECT_EQ(test::parse(stripped.frame).udp_checksum, 0);
    EXPECT_EQ(test::parse(stripped.frame).payload, data);
    EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 2u);
}

TEST_F(FastPathTest, StunGoesToUserspace) {
    const Channel c = channel_v4(20500, 6);
    install(*program_, c);
    Bytes binding = data_of(20, 0);
    binding[0] = 0x00;
    binding[1] = 0x01;
    expect_passed_unchanged(from_client(c, binding), HEARTH_FP_PASS_NO_ENTRY);
    binding[0] = 0x01;
    before_ = program_->read_outcomes();
    expect_passed_unchanged(from_client(c, binding), HEARTH_FP_PASS_NO_ENTRY);
}

TEST_F(FastPathTest, UnknownChannelGoesToUserspace) {
    const Channel c = channel_v4(20600, 7);  // not installed
    expect_passed_unchanged(from_client(c, test::channel_data(channel, data_of(10, 1))),
                            HEARTH_FP_PASS_NO_ENTRY);
    before_ = program_->read_outcomes();
    expect_passed_unchanged(from_peer(c, data_of(10, 1)), HEARTH_FP_PASS_NO_ENTRY);
}

TEST_F(FastPathTest, ExpiredEntriesGoToUserspace) {
    Channel c = channel_v4(20700, 8);
    c.expires_ns = 1;  // long past on CLOCK_MONOTONIC
    install(*program_, c);
    expect_passed_unchanged(from_client(c, test::channel_data(channel, data_of(10, 1))),
                            HEARTH_FP_PASS_EXPIRED);
    before_ = program_->read_outcomes();
    expect_passed_unchanged(from_peer(c, data_of(10, 1)), HEARTH_FP_PASS_EXPIRED);
}

TEST_F(FastPathTest, PaddedChannelDataGoesToUserspace) {
    const Channel c = channel_v4(20800, 9);
    install(*program_, c);
    Bytes padded = test::channel_data(channel, data_of(10, 1));
    padded.push_back(0);
    padded.push_back(0);  // RFC 8656 §12.5: padding to a multiple of four
    expect_passed_unchanged(from_client(c, padded), HEARTH_FP_PASS_PADDED);
}

TEST_F(FastPathTest, BadChannelDataLengthGoesToUserspace) {
    const Channel c = channel_v4(20900, 10);
    install(*program_, c);
    Bytes longer = test::channel_data(channel, data_of(10, 1));
    longer[3] = 100;  // says 100 bytes, has 10
    expect_passed_unchanged(from_client(c, longer), HEARTH_FP_PASS_MALFORMED);
    Bytes trailing = test::channel_data(channel, data_of(10, 1));
    trailing.resize(trailing.size() + 5);  // more than padding
    before_ = program_->read_outcomes();
    expect_passed_unchanged(from_client(c, trailing), HEARTH_FP_PASS_MALFORMED);
}

TEST_F(FastPathTest, Ipv4OptionsGoToUserspace) {
    const Channel c = channel_v4(21000, 11);
    install(*program_, c);
    Bytes frame = from_client(c, test::channel_data(channel, data_of(10, 1)));
    frame[14] = 0x46;  // IHL 6: one word of options (the checksum no longer matters)
    expect_passed_unchanged(frame, HEARTH_FP_PASS_NOT_UDP);
}

TEST_F(FastPathTest, Ipv4FragmentsGoToUserspace) {
    const Channel c = channel_v4(21100, 12);
    install(*program_, c);
    Bytes frame = from_client(c, test::channel_data(channel, data_of(10, 1)));
    frame[20] = 0x20;  // more fragments
    frame[21] = 0x00;
    expect_passed_unchanged(frame, HEARTH_FP_PASS_NOT_UDP);
    frame[20] = 0x00;
    frame[21] = 0x10;  // an offset
    before_ = program_->read_outcomes();
    expect_passed_unchanged(frame, HEARTH_FP_PASS_NOT_UDP);
}

TEST_F(FastPathTest, Ipv6ExtensionHeaderGoesToUserspace) {
    const Channel c = channel_v6(21200, 13);
    install(*program_, c);
    Bytes frame = from_client(c, test::channel_data(channel, data_of(10, 1)));
    frame[14 + 6] = 0;  // hop-by-hop options before the UDP header
    expect_passed_unchanged(frame, HEARTH_FP_PASS_NOT_UDP);
}

TEST_F(FastPathTest, TcpPassesUncounted) {
    const Channel c = channel_v4(21300, 14);
    install(*program_, c);
    Bytes frame = from_client(c, test::channel_data(channel, data_of(10, 1)));
    frame[14 + 9] = 6;  // TCP
    const Verdict result = run(*program_, frame);
    EXPECT_EQ(result.verdict, XDP_PASS);
    EXPECT_EQ(result.frame, frame);
    const auto after = program_->read_outcomes();
    EXPECT_TRUE(std::equal(after.begin(), after.end(), before_.begin()));
}

TEST_F(FastPathTest, SpentAllowanceGoesToUserspace) {
    const Channel c = channel_v4(21400, 15);
    install(*program_, c, 5);
    expect_passed_unchanged(from_client(c, test::channel_data(channel, data_of(10, 1))),
                            HEARTH_FP_PASS_OVER_ALLOWANCE);
    EXPECT_EQ(program_->allowance(c.slot).to_peer_bytes, 5);  // all or nothing
    before_ = program_->read_outcomes();
    expect_passed_unchanged(from_peer(c, data_of(10, 1)), HEARTH_FP_PASS_OVER_ALLOWANCE);
    EXPECT_EQ(program_->read_counters(c.slot).to_peer_packets, 0u);
    program_->allowance(c.slot).to_peer_bytes = 10;  // exactly enough
    const Bytes data = data_of(10, 1);
    expect_stripped(run(*program_, from_client(c, test::channel_data(channel, data))), c, data);
    EXPECT_EQ(program_->allowance(c.slot).to_peer_bytes, 0);
}

// Without forwarding on the interface, the kernel's fib lookup refuses (FWD_DISABLED):
// the datagram goes to userspace unchanged, counted as no route.
TEST_F(FastPathTest, ForwardingOffLeavesIpv4ToUserspace) {
    const Channel c = channel_v4(21450, 20);
    install(*program_, c);
    ASSERT_TRUE(write_setting(lo_forwarding, "0"));
    expect_passed_unchanged(from_client(c, test::channel_data(channel, data_of(10, 1))),
                            HEARTH_FP_PASS_NO_ROUTE);
    ASSERT_TRUE(write_setting(lo_forwarding, "1"));
    EXPECT_EQ(program_->allowance(c.slot).to_peer_bytes, 1 << 20);  // nothing spent
}

// A wildcard listener: the program learns the address the client sent to from its first
// carried ChannelData, and sends the peer's datagrams from it.
TEST_F(FastPathTest, WildcardListenerLearnsTheServerAddress) {
    Channel c = channel_v4(21500, 16);
    c.server = test::ipv4("127.0.0.5", 3478);
    c.wildcard = true;
    install(*program_, c);
    const Bytes data = data_of(12, 0x80);
    expect_passed_unchanged(from_peer(c, data), HEARTH_FP_PASS_NO_SERVER_IP);
    expect_stripped(run(*program_, from_client(c, test::channel_data(channel, data))), c, data);
    expect_wrapped(run(*program_, from_peer(c, data)), c, c.server, data);
    EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 2u);
}

TEST_F(FastPathTest, MediaRecordsReachTheWorker) {
    const Channel c = channel_v4(21600, 17);
    install(*program_, c);
    const Bytes rtp = data_of(40, 0x80);
    const Bytes tiny = data_of(5, 0x80);
    run(*program_, from_client(c, test::channel_data(channel, rtp)));
    run(*program_, from_peer(c, tiny));
    std::vector<hearth_fp_media_record> records;
    const std::size_t drained = program_->drain_media(
        0, [&](const hearth_fp_media_record& record) { records.push_back(record); });
    ASSERT_EQ(drained, 2u);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].slot, c.slot);
    EXPECT_EQ(records[0].direction, 0);
    EXPECT_EQ(records[0].payload_bytes, 40);
    EXPECT_EQ(records[0].header_bytes, 12);
    EXPECT_TRUE(std::equal(rtp.begin(), rtp.begin() + 12, records[0].header));
    EXPECT_GT(records[0].arrival_ns, 0u);
    EXPECT_EQ(records[1].direction, 1);
    EXPECT_EQ(records[1].payload_bytes, 5);
    EXPECT_EQ(records[1].header_bytes, 5);
    EXPECT_TRUE(std::equal(tiny.begin(), tiny.end(), records[1].header));
    EXPECT_EQ(program_->drain_media(1, [](const hearth_fp_media_record&) {}), 0u);
    EXPECT_EQ(program_->drain_media(0, [](const hearth_fp_media_record&) {}), 0u);
}

// The verifier guarantees no access outside the packet; this checks the verdicts stay
// sane on garbage, on truncations of carried frames, and on frames with wrong lengths.
TEST_F(FastPathTest, GarbageAndTruncatedFramesPass) {
    const Channel c4 = channel_v4(21700, 18);
    const Channel c6 = channel_v6(21800, 19);
    install(*program_, c4);
    install(*program_, c6);
    std::vector<Bytes> frames = {
        from_client(c4, test::channel_data(channel, data_of(30, 1))),
        from_peer(c4, data_of(30, 1)),
        from_client(c6, test::channel_data(channel, data_of(30, 1))),
        from_peer(c6, data_of(30, 1)),
    };
    std::mt19937 random(8656);
    for (const Bytes& whole : frames) {
        for (std::size_t size = 14; size < whole.size(); ++size) {
            const Verdict result = run(*program_, Bytes(whole.begin(), whole.begin() + size));
            ASSERT_EQ(result.error, 0);
            EXPECT_EQ(result.verdict, XDP_PASS) << "truncated to " << size;
        }
        for (int i = 0; i < 200; ++i) {
            Bytes mangled = whole;
            mangled[14 + random() % (mangled.size() - 14)] = static_cast<std::uint8_t>(random());
            const Verdict result = run(*program_, mangled);
            ASSERT_EQ(result.error, 0);
            // Never dropped: on lo even a mangled frame that still reads as ChannelData on
            // a channel goes on, as XDP_PASS.
            EXPECT_EQ(result.verdict, XDP_PASS);
        }
    }
    for (int i = 0; i < 500; ++i) {
        Bytes garbage(14 + random() % 200);
        std::generate(garbage.begin(), garbage.end(),
                      [&] { return static_cast<std::uint8_t>(random()); });
        if (i % 2 == 0) {
            garbage[12] = i % 4 == 0 ? 0x08 : 0x86;  // IPv4 or IPv6, the rest random
            garbage[13] = i % 4 == 0 ? 0x00 : 0xdd;
        }
        const Verdict result = run(*program_, garbage);
        ASSERT_EQ(result.error, 0);
        EXPECT_EQ(result.verdict, XDP_PASS);
    }
}

TEST_F(FastPathTest, RemovedEntriesGoToUserspace) {
    const Channel c = channel_v4(21900, 21);
    install(*program_, c);
    program_->remove_client(client_key(c));
    program_->remove_peer(peer_key(c));
    expect_passed_unchanged(from_client(c, test::channel_data(channel, data_of(10, 1))),
                            HEARTH_FP_PASS_NO_ENTRY);
    before_ = program_->read_outcomes();
    expect_passed_unchanged(from_peer(c, data_of(10, 1)), HEARTH_FP_PASS_NO_ENTRY);
}

TEST_F(FastPathTest, CountersClearAndSumBothDirections) {
    const Channel c = channel_v4(22000, 22);
    install(*program_, c);
    for (int i = 0; i < 3; ++i) {
        run(*program_, from_client(c, test::channel_data(channel, data_of(100, 1))));
    }
    run(*program_, from_peer(c, data_of(7, 1)));
    hearth_fp_counters counters = program_->read_counters(c.slot);
    EXPECT_EQ(counters.to_peer_packets, 3u);
    EXPECT_EQ(counters.to_peer_bytes, 300u);
    EXPECT_EQ(counters.to_client_packets, 1u);
    EXPECT_EQ(counters.to_client_bytes, 7u);
    EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 4u);
    program_->clear_counters(c.slot);
    counters = program_->read_counters(c.slot);
    EXPECT_EQ(counters.to_peer_packets + counters.to_peer_bytes + counters.to_client_packets +
                  counters.to_client_bytes,
              0u);
}

// A slot written by userspace (BPF_F_LOCK) is what the program reads for a wildcard
// listener's entries.
TEST_F(FastPathTest, SlotWrittenByUserspaceGivesTheServerAddress) {
    Channel c = channel_v4(22100, 23);
    c.server = test::ipv4("127.0.0.6", 3478);
    c.wildcard = true;
    install(*program_, c);
    hearth_fp_slot slot{};
    std::memcpy(slot.server_ip, c.server.ip.data(), 16);
    slot.server_ip_known = 1;
    ASSERT_TRUE(program_->put_slot(c.slot, slot));
    const Bytes data = data_of(9, 0x80);
    expect_wrapped(run(*program_, from_peer(c, data)), c, c.server, data);
}

// The kernel calls a link-local IPv6 destination not forwarded without asking whether it
// is local: the program leaves such datagrams to userspace.
TEST_F(FastPathTest, LinkLocalIpv6PeerGoesToUserspace) {
    Channel c = channel_v6(22200, 24);
    c.peer = test::ipv6("fe80::1234", 22202);
    install(*program_, c);
    expect_passed_unchanged(from_client(c, test::channel_data(channel, data_of(10, 1))),
                            HEARTH_FP_PASS_NO_ROUTE);
}

TEST(FastPathLoad, RefusesZeroOrTooManyWorkers) {
    std::string error;
    EXPECT_EQ(FastPathProgram::load(0, error), nullptr);
    EXPECT_FALSE(error.empty());
    error.clear();
    EXPECT_EQ(FastPathProgram::load(HEARTH_FP_MAX_WORKERS + 1, error), nullptr);
    EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace hearth::xdp::test
