// The XDP fast path run by the kernel (bpf_prog_test_run) on hand-built frames between
// loopback addresses: bpf_fib_lookup finds them local (NOT_FWDED), so a carried datagram
// comes back as XDP_PASS with the rewritten frame, whose checksums are checked from scratch.
//
// bpf_fib_lookup answers FWD_DISABLED for IPv4 when the interface does not forward, even
// with BPF_FIB_LOOKUP_OUTPUT (kernel 6.18). So the tests run in a network namespace of
// their own, with lo up and forwarding on, and never touch the host's settings.

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "relay/xdp/fast_path_program.h"
#include "tests/xdp/frames.h"

namespace hearth::xdp {
namespace {

using test::Bytes;
using test::Endpoint;
using test::Frame;

constexpr std::uint16_t channel = 0x4001;
constexpr std::uint64_t forever = ~0ull;

struct Verdict {
    int error = 0;
    std::uint32_t verdict = 0;
    Bytes frame;
};

Verdict run(FastPathProgram& program, const Bytes& in) {
    Verdict result;
    result.frame.assign(in.size() + 256, 0);
    bpf_test_run_opts options{};
    options.sz = sizeof(options);
    options.data_in = in.data();
    options.data_size_in = static_cast<std::uint32_t>(in.size());
    options.data_out = result.frame.data();
    options.data_size_out = static_cast<std::uint32_t>(result.frame.size());
    options.repeat = 1;
    if (bpf_prog_test_run_opts(program.program_fd(), &options) != 0) {
        result.error = errno;
        return result;
    }
    result.verdict = options.retval;
    result.frame.resize(options.data_size_out);
    return result;
}

// As if the frame arrived on `ifindex`, so the fib lookup starts from that interface.
Verdict run_on(FastPathProgram& program, const Bytes& in, int ifindex) {
    Verdict result;
    result.frame.assign(in.size() + 256, 0);
    xdp_md context{};
    context.data_end = static_cast<std::uint32_t>(in.size());
    context.ingress_ifindex = static_cast<std::uint32_t>(ifindex);
    bpf_test_run_opts options{};
    options.sz = sizeof(options);
    options.data_in = in.data();
    options.data_size_in = static_cast<std::uint32_t>(in.size());
    options.data_out = result.frame.data();
    options.data_size_out = static_cast<std::uint32_t>(result.frame.size());
    options.ctx_in = &context;
    options.ctx_size_in = sizeof(context);
    options.repeat = 1;
    if (bpf_prog_test_run_opts(program.program_fd(), &options) != 0) {
        result.error = errno;
        return result;
    }
    result.verdict = options.retval;
    result.frame.resize(options.data_size_out);
    return result;
}

Bytes data_of(std::size_t size, std::uint8_t first) {
    Bytes data(size);
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<std::uint8_t>(first + i * 7);
    }
    return data;
}

__u8 family_of(const Endpoint& endpoint, bool v6) {
    (void)endpoint;
    return v6 ? HEARTH_FP_FAMILY_IPV6 : HEARTH_FP_FAMILY_IPV4;
}

// A bound channel: client <-> server (the listener), relay <-> peer.
struct Channel {
    bool v6 = false;
    Endpoint client;
    Endpoint server;
    Endpoint relay;
    Endpoint peer;
    std::uint32_t slot = 0;
    std::uint64_t expires_ns = forever;
    bool wildcard = false;  // the listener's address left zero in the entries
};

hearth_fp_client_key client_key(const Channel& c) {
    hearth_fp_client_key key;
    std::memset(&key, 0, sizeof(key));
    std::memcpy(key.client_ip, c.client.ip.data(), 16);
    if (!c.wildcard) {
        std::memcpy(key.server_ip, c.server.ip.data(), 16);
    }
    key.client_port = htons(c.client.port);
    key.server_port = htons(c.server.port);
    key.channel = htons(channel);
    key.family = family_of(c.client, c.v6);
    return key;
}

hearth_fp_peer_key peer_key(const Channel& c) {
    hearth_fp_peer_key key;
    std::memset(&key, 0, sizeof(key));
    std::memcpy(key.peer_ip, c.peer.ip.data(), 16);
    std::memcpy(key.relay_ip, c.relay.ip.data(), 16);
    key.peer_port = htons(c.peer.port);
    key.relay_port = htons(c.relay.port);
    key.family = family_of(c.peer, c.v6);
    return key;
}

void install(FastPathProgram& program, const Channel& c, std::int64_t allowance = 1 << 20) {
    hearth_fp_client_entry to_peer{};
    std::memcpy(to_peer.relay_ip, c.relay.ip.data(), 16);
    std::memcpy(to_peer.peer_ip, c.peer.ip.data(), 16);
    to_peer.relay_port = htons(c.relay.port);
    to_peer.peer_port = htons(c.peer.port);
    to_peer.slot = c.slot;
    to_peer.expires_ns = c.expires_ns;
    to_peer.worker = 0;
    hearth_fp_peer_entry to_client{};
    std::memcpy(to_client.client_ip, c.client.ip.data(), 16);
    if (!c.wildcard) {
        std::memcpy(to_client.server_ip, c.server.ip.data(), 16);
    }
    to_client.client_port = htons(c.client.port);
    to_client.server_port = htons(c.server.port);
    to_client.channel = htons(channel);
    to_client.slot = c.slot;
    to_client.expires_ns = c.expires_ns;
    to_client.worker = 0;
    ASSERT_TRUE(program.put_slot(c.slot, hearth_fp_slot{}));
    ASSERT_TRUE(program.put_client(client_key(c), to_peer));
    ASSERT_TRUE(program.put_peer(peer_key(c), to_client));
    program.clear_counters(c.slot);
    program.allowance(c.slot).to_peer_bytes = allowance;
    program.allowance(c.slot).to_client_bytes = allowance;
}

Bytes from_client(const Channel& c, const Bytes& payload, bool zero_checksum = false) {
    Frame frame;
    frame.v6 = c.v6;
    frame.source = c.client;
    frame.destination = c.server;
    frame.payload = payload;
    frame.zero_udp_checksum = zero_checksum;
    return test::build(frame);
}

Bytes from_peer(const Channel& c, const Bytes& payload, bool zero_checksum = false) {
    Frame frame;
    frame.v6 = c.v6;
    frame.source = c.peer;
    frame.destination = c.relay;
    frame.payload = payload;
    frame.zero_udp_checksum = zero_checksum;
    return test::build(frame);
}

// Distinct ports per test: the maps are shared by the whole suite.
Channel channel_v4(std::uint16_t base, std::uint32_t slot) {
    Channel c;
    c.client = test::ipv4("127.0.0.2", base);
    c.server = test::ipv4("127.0.0.1", 3478);
    c.relay = test::ipv4("127.0.0.1", static_cast<std::uint16_t>(base + 1));
    c.peer = test::ipv4("127.0.0.3", static_cast<std::uint16_t>(base + 2));
    c.slot = slot;
    return c;
}

Channel channel_v6(std::uint16_t base, std::uint32_t slot) {
    Channel c;
    c.v6 = true;
    c.client = test::ipv6("::1", base);
    c.server = test::ipv6("::1", 3478);
    c.relay = test::ipv6("::1", static_cast<std::uint16_t>(base + 1));
    c.peer = test::ipv6("::1", static_cast<std::uint16_t>(base + 2));
    c.slot = slot;
    return c;
}

bool same(const Endpoint& a, const Endpoint& b) {
    return a.ip == b.ip && a.port == b.port;
}

bool write_setting(const std::string& path, const std::string& value) {
    std::ofstream file(path);
    file << value;
    file.flush();
    return file.good();
}

constexpr const char* lo_forwarding = "/proc/sys/net/ipv4/conf/lo/forwarding";

// This test process's own network namespace: lo up, forwarding on.
bool enter_private_network(std::string& error) {
    if (unshare(CLONE_NEWNET) != 0) {
        error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
        return false;
    }
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    const bool up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &request) == 0 &&
                    (request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP),
                     ioctl(fd, SIOCSIFFLAGS, &request) == 0);
    if (fd >= 0) {
        close(fd);
    }
    if (!up) {
        error = std::string("cannot bring lo up: ") + std::strerror(errno);
        return false;
    }
    if (!write_setting(lo_forwarding, "1")) {
        error = "cannot turn forwarding on for lo";
        return false;
    }
    return true;
}

class FastPathTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (enter_private_network(load_error_)) {
            program_ = FastPathProgram::load(2, load_error_).release();
        }
    }
    static void TearDownTestSuite() {
        delete program_;
        program_ = nullptr;
    }
    void SetUp() override {
        if (program_ == nullptr) {
            GTEST_SKIP() << "cannot load the XDP program (needs CAP_BPF, CAP_NET_ADMIN): "
                         << load_error_;
        }
        while (program_->drain_media(0, [](const hearth_fp_media_record&) {}) != 0) {
        }
        before_ = program_->read_outcomes();
    }
    std::uint64_t outcome_delta(hearth_fp_outcome outcome) {
        return program_->read_outcomes()[outcome] - before_[outcome];
    }
    // The frame comes back unchanged, as XDP_PASS, with `outcome` counted once.
    void expect_passed_unchanged(const Bytes& frame, hearth_fp_outcome outcome) {
        const Verdict result = run(*program_, frame);
        ASSERT_EQ(result.error, 0);
        EXPECT_EQ(result.verdict, XDP_PASS);
        EXPECT_EQ(result.frame, frame);
        EXPECT_EQ(outcome_delta(outcome), 1u);
        EXPECT_EQ(outcome_delta(HEARTH_FP_CARRIED), 0u);
    }

    static FastPathProgram* program_;
    static std::string load_error_;
    std::array<std::uint64_t, HEARTH_FP_OUTCOMES> before_{};
};

FastPathProgram* FastPathTest::program_ = nullptr;
std::string FastPathTest::load_error_;

// Client -> peer: the ChannelData header comes off, the datagram goes from the relayed
// address to the peer.
void expect_stripped(const Verdict& result, const Channel& c, const Bytes& data) {
    ASSERT_EQ(result.error, 0);
    EXPECT_EQ(result.verdict, XDP_PASS);
    const test::Parsed out = test::parse(result.frame);
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.v6, c.v6);
    EXPECT_TRUE(same(out.source, c.relay));
    EXPECT_TRUE(same(out.destination, c.peer));
    EXPECT_EQ(out.ttl, 64);
    EXPECT_TRUE(out.ip_checksum_ok);
    EXPECT_TRUE(out.udp_checksum_ok);
    EXPECT_EQ(out.payload, data);
    EXPECT_EQ(result.frame.size(), (c.v6 ? 62u : 42u) + data.size());
}

// Peer -> client: the datagram goes to the client as ChannelData from the listener.
void expect_wrapped(const Verdict& result, const Channel& c, const Endpoint& server,
                    const Bytes& data) {
    ASSERT_EQ(result.error, 0);
    EXPECT_EQ(result.verdict, XDP_PASS);
    const test::Parsed out = test::parse(result.frame);
    ASSERT_TRUE(out.ok);
    EXPECT_TRUE(same(out.source, server));
    EXPECT_TRUE(same(out.destination, c.client));
    EXPECT_EQ(out.ttl, 64);
    EXPECT_TRUE(out.ip_checksum_ok);
    EXPECT_TRUE(out.udp_checksum_ok);
    EXPECT_EQ(out.payload, test::channel_data(channel, data));
}

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

TEST_F(FastPathTest, StripsChannelDataIpv6) {
    const Channel c = channel_v6(20100, 2);
    install(*program_, c);
    const Bytes data = data_of(33, 0x90);
    expect_stripped(run(*program_, from_client(c, test::channel_data(channel, data))), c, data);
    EXPECT_EQ(program_->read_counters(c.slot).to_peer_bytes, 33u);
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

TEST_F(FastPathTest, WrapsIpv6) {
    const Channel c = channel_v6(20300, 4);
    install(*program_, c);
    const Bytes data = data_of(200, 0x11);
    expect_wrapped(run(*program_, from_peer(c, data)), c, c.server, data);
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
            EXPECT_TRUE(result.verdict == XDP_PASS || result.verdict == XDP_DROP);
        }
    }
    for (int i = 0; i < 500; ++i) {
        Bytes garbage(14 + random() % 200);
        std::generate(garbage.begin(), garbage.end(),
                      [&] { return static_cast<std::uint8_t>(random()); });
        if (i % 2 == 0) {
            garbage[12] = 0x08;  // IPv4 or IPv6, the rest random
            garbage[13] = i % 4 == 0 ? 0x00 : 0xdd;
            garbage[12] = i % 4 == 0 ? 0x08 : 0x86;
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

// Two veth pairs in the test's namespace, with addresses and permanent neighbours, so the
// fib lookup succeeds: out the interface the frame came in by (XDP_TX), or out another
// (XDP_REDIRECT), with the interfaces' and neighbours' MAC addresses.
class FastPathForwardingTest : public FastPathTest {
  protected:
    void SetUp() override {
        FastPathTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        if (std::system("command -v ip >/dev/null") != 0) {
            GTEST_SKIP() << "no ip (iproute2)";
        }
        const char* commands[] = {
            "ip link add xdpa address 02:00:00:00:0a:01 type veth peer name xdpb",
            "ip link add xdpc address 02:00:00:00:0c:01 type veth peer name xdpd",
            "ip link set xdpa up && ip link set xdpb up && ip link set xdpc up && "
            "ip link set xdpd up",
            "ip addr add 10.200.0.1/24 dev xdpa && ip addr add 10.201.0.1/24 dev xdpc",
            "ip -6 addr add fd00:200::1/64 dev xdpa nodad",
            "ip neigh replace 10.200.0.3 lladdr 02:00:00:00:0a:03 dev xdpa nud permanent",
            "ip neigh replace 10.201.0.2 lladdr 02:00:00:00:0c:02 dev xdpc nud permanent",
            "ip -6 neigh replace fd00:200::3 lladdr 02:00:00:00:0a:03 dev xdpa nud permanent",
        };
        for (const char* command : commands) {
            ASSERT_EQ(std::system(command), 0) << command;
        }
        ASSERT_TRUE(write_setting("/proc/sys/net/ipv4/conf/xdpa/forwarding", "1"));
        ASSERT_TRUE(write_setting("/proc/sys/net/ipv6/conf/xdpa/forwarding", "1"));
        ingress_ = static_cast<int>(if_nametoindex("xdpa"));
        ASSERT_GT(ingress_, 0);
    }
    void TearDown() override {
        std::system("ip link del xdpa 2>/dev/null; ip link del xdpc 2>/dev/null");
    }
    int ingress_ = 0;
};

std::array<std::uint8_t, 12> macs(const char* destination, const char* source) {
    std::array<std::uint8_t, 12> out{};
    unsigned byte[12];
    std::sscanf(destination, "%x:%x:%x:%x:%x:%x", &byte[0], &byte[1], &byte[2], &byte[3], &byte[4],
                &byte[5]);
    std::sscanf(source, "%x:%x:%x:%x:%x:%x", &byte[6], &byte[7], &byte[8], &byte[9], &byte[10],
                &byte[11]);
    for (int i = 0; i < 12; ++i) {
        out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(byte[i]);
    }
    return out;
}

TEST_F(FastPathForwardingTest, SendsBackOutTheIngressInterface) {
    Channel c;
    c.client = test::ipv4("10.200.0.2", 40000);
    c.server = test::ipv4("10.200.0.1", 3478);
    c.relay = test::ipv4("10.200.0.1", 40001);
    c.peer = test::ipv4("10.200.0.3", 40002);
    c.slot = 30;
    install(*program_, c);
    const Bytes data = data_of(20, 0x80);
    const Verdict result =
        run_on(*program_, from_client(c, test::channel_data(channel, data)), ingress_);
    ASSERT_EQ(result.error, 0);
    EXPECT_EQ(result.verdict, XDP_TX);
    const test::Parsed out = test::parse(result.frame);
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.macs, macs("02:00:00:00:0a:03", "02:00:00:00:0a:01"));
    EXPECT_TRUE(same(out.source, c.relay));
    EXPECT_TRUE(same(out.destination, c.peer));
    EXPECT_TRUE(out.ip_checksum_ok);
    EXPECT_TRUE(out.udp_checksum_ok);
    EXPECT_EQ(out.payload, data);
}

TEST_F(FastPathForwardingTest, RedirectsToThePeersInterface) {
    Channel c;
    c.client = test::ipv4("10.200.0.2", 40100);
    c.server = test::ipv4("10.200.0.1", 3478);
    c.relay = test::ipv4("10.201.0.1", 40101);
    c.peer = test::ipv4("10.201.0.2", 40102);
    c.slot = 31;
    install(*program_, c);
    const Bytes data = data_of(20, 0x80);
    const Verdict result =
        run_on(*program_, from_client(c, test::channel_data(channel, data)), ingress_);
    ASSERT_EQ(result.error, 0);
    EXPECT_EQ(result.verdict, XDP_REDIRECT);
    const test::Parsed out = test::parse(result.frame);
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.macs, macs("02:00:00:00:0c:02", "02:00:00:00:0c:01"));
    EXPECT_TRUE(same(out.source, c.relay));
    EXPECT_TRUE(same(out.destination, c.peer));
    EXPECT_TRUE(out.udp_checksum_ok);
}

TEST_F(FastPathForwardingTest, WrapsIpv6BackOutTheIngressInterface) {
    Channel c;
    c.v6 = true;
    c.client = test::ipv6("fd00:200::3", 40200);
    c.server = test::ipv6("fd00:200::1", 3478);
    c.relay = test::ipv6("fd00:200::1", 40201);
    c.peer = test::ipv6("fd00:200::3", 40202);
    c.slot = 32;
    install(*program_, c);
    const Bytes data = data_of(21, 0x80);
    const Verdict result = run_on(*program_, from_peer(c, data), ingress_);
    ASSERT_EQ(result.error, 0);
    EXPECT_EQ(result.verdict, XDP_TX);
    const test::Parsed out = test::parse(result.frame);
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(out.macs, macs("02:00:00:00:0a:03", "02:00:00:00:0a:01"));
    EXPECT_TRUE(same(out.source, c.server));
    EXPECT_TRUE(same(out.destination, c.client));
    EXPECT_TRUE(out.udp_checksum_ok);
    EXPECT_EQ(out.payload, test::channel_data(channel, data));
}

// A datagram that would not fit the route's MTU once wrapped goes to userspace unchanged.
TEST_F(FastPathForwardingTest, TooBigForTheMtuGoesToUserspace) {
    ASSERT_EQ(std::system("ip link set xdpa mtu 1280"), 0);
    Channel c;
    c.client = test::ipv4("10.200.0.3", 40300);
    c.server = test::ipv4("10.200.0.1", 3478);
    c.relay = test::ipv4("10.200.0.1", 40301);
    c.peer = test::ipv4("10.200.0.3", 40302);
    c.slot = 33;
    install(*program_, c);
    const Bytes frame = from_peer(c, data_of(1280 - 28 - 2, 1));  // fits; +4 does not
    const Verdict result = run_on(*program_, frame, ingress_);
    ASSERT_EQ(result.error, 0);
    EXPECT_EQ(result.verdict, XDP_PASS);
    EXPECT_EQ(result.frame, frame);
    EXPECT_EQ(outcome_delta(HEARTH_FP_PASS_TOO_BIG), 1u);
}

// Attached through BPF links: on the interface while the program lives, gone with it.
TEST_F(FastPathForwardingTest, AttachesThroughLinksThatGoWithTheProgram) {
    const int other = static_cast<int>(if_nametoindex("xdpc"));
    ASSERT_GT(other, 0);
    std::string error;
    auto attached = FastPathProgram::load(1, error);
    ASSERT_NE(attached, nullptr) << error;
    ASSERT_TRUE(attached->attach(ingress_, AttachMode::generic, error)) << error;
    ASSERT_TRUE(attached->attach(other, AttachMode::native, error)) << error;
    __u32 generic_id = 0;
    __u32 native_id = 0;
    ASSERT_EQ(bpf_xdp_query_id(ingress_, XDP_FLAGS_SKB_MODE, &generic_id), 0);
    ASSERT_EQ(bpf_xdp_query_id(other, XDP_FLAGS_DRV_MODE, &native_id), 0);
    EXPECT_NE(generic_id, 0u);
    EXPECT_EQ(generic_id, native_id);
    attached.reset();
    ASSERT_EQ(bpf_xdp_query_id(ingress_, XDP_FLAGS_SKB_MODE, &generic_id), 0);
    ASSERT_EQ(bpf_xdp_query_id(other, XDP_FLAGS_DRV_MODE, &native_id), 0);
    EXPECT_EQ(generic_id, 0u);
    EXPECT_EQ(native_id, 0u);
}

}  // namespace
}  // namespace hearth::xdp
