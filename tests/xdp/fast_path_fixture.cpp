#include "tests/xdp/fast_path_fixture.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace hearth::xdp::test {

namespace {

__u8 family_of(bool v6) {
    return v6 ? HEARTH_FP_FAMILY_IPV6 : HEARTH_FP_FAMILY_IPV4;
}

}  // namespace

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
    key.family = family_of(c.v6);
    return key;
}

hearth_fp_peer_key peer_key(const Channel& c) {
    hearth_fp_peer_key key;
    std::memset(&key, 0, sizeof(key));
    std::memcpy(key.peer_ip, c.peer.ip.data(), 16);
    std::memcpy(key.relay_ip, c.relay.ip.data(), 16);
    key.peer_port = htons(c.peer.port);
    key.relay_port = htons(c.relay.port);
    key.family = family_of(c.v6);
    return key;
}

void install(FastPathProgram& program, const Channel& c, std::int64_t allowance) {
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

Bytes from_client(const Channel& c, const Bytes& payload, bool zero_checksum) {
    Frame frame;
    frame.v6 = c.v6;
    frame.source = c.client;
    frame.destination = c.server;
    frame.payload = payload;
    frame.zero_udp_checksum = zero_checksum;
    return test::build(frame);
}

Bytes from_peer(const Channel& c, const Bytes& payload, bool zero_checksum) {
    Frame frame;
    frame.v6 = c.v6;
    frame.source = c.peer;
    frame.destination = c.relay;
    frame.payload = payload;
    frame.zero_udp_checksum = zero_checksum;
    return test::build(frame);
}

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

// Client -> peer: the ChannelData header comes off, the datagram goes from the relayed
// address to the peer. These run on lo (IPv4), where the program leaves the UDP checksum
// out (fast_path_rewrite.bpf.h); forwarding_test.cpp checks computed ones on veth pairs.
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
    EXPECT_EQ(out.udp_checksum, 0) << "lo: RFC 768's no checksum";
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
    EXPECT_EQ(out.udp_checksum, 0) << "lo: RFC 768's no checksum";
    EXPECT_EQ(out.payload, test::channel_data(channel, data));
}

FastPathProgram* FastPathTest::program_ = nullptr;
std::string FastPathTest::load_error_;

}  // namespace hearth::xdp::test
