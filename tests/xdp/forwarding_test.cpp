// The XDP fast path where the fib lookup succeeds: veth pairs in the test's own network
// namespace, the program's verdict XDP_TX or XDP_REDIRECT with the right MAC addresses;
// and attaching it to interfaces through BPF links.

#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cstdio>
#include <cstdlib>

#include "tests/xdp/fast_path_fixture.h"

namespace hearth::xdp::test {
namespace {

// Two veth pairs in the test's namespace, with addresses and permanent neighbours, so the
// fib lookup succeeds: out the interface the frame came in by (XDP_TX), or out another
// (XDP_REDIRECT), with the interfaces' and neighbours' MAC addresses.
class FastPathForwardingTest : public FastPathTest {
  protected:
    void SetUp() override {
        FastPathTest::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        ASSERT_EQ(std::system("command -v ip >/dev/null"), 0)
            << "ip is missing: run ./test.sh (it installs iproute2)";
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
}  // namespace hearth::xdp::test
