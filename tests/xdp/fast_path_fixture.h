#pragma once

// What the XDP tests share: running the program on a frame (bpf_prog_test_run), a bound
// channel and its map entries, the frames each side sends, and the fixture that loads the
// program once per suite in a network namespace of the test's own.
//
// bpf_fib_lookup answers FWD_DISABLED for IPv4 when the ingress interface does not
// forward, whatever its flags (kernel 6.18). So the tests run in a network namespace of
// their own, with lo up and forwarding on, and never touch the host's settings.

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <array>
#include <cstdint>
#include <string>

#include "relay/xdp/fast_path_program.h"
#include "tests/xdp/frames.h"

namespace hearth::xdp::test {

inline constexpr std::uint16_t channel = 0x4001;
inline constexpr std::uint64_t forever = ~0ull;
inline constexpr const char* lo_forwarding = "/proc/sys/net/ipv4/conf/lo/forwarding";

struct Verdict {
    int error = 0;
    std::uint32_t verdict = 0;
    Bytes frame;
};

// The program's verdict on `in`, as if it arrived on lo.
Verdict run(FastPathProgram& program, const Bytes& in);
// As if the frame arrived on `ifindex`, so the fib lookup starts from that interface.
Verdict run_on(FastPathProgram& program, const Bytes& in, int ifindex);
Bytes data_of(std::size_t size, std::uint8_t first);

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

hearth_fp_client_key client_key(const Channel& c);
hearth_fp_peer_key peer_key(const Channel& c);
// Both entries, a fresh slot, cleared counters and `allowance` bytes each way.
void install(FastPathProgram& program, const Channel& c, std::int64_t allowance = 1 << 20);
Bytes from_client(const Channel& c, const Bytes& payload, bool zero_checksum = false);
Bytes from_peer(const Channel& c, const Bytes& payload, bool zero_checksum = false);
// Distinct ports per test: the maps are shared by the whole suite.
Channel channel_v4(std::uint16_t base, std::uint32_t slot);
Channel channel_v6(std::uint16_t base, std::uint32_t slot);
bool same(const Endpoint& a, const Endpoint& b);
bool write_setting(const std::string& path, const std::string& value);
// This test process's own network namespace: lo up, forwarding on.
bool enter_private_network(std::string& error);
// Client -> peer: the ChannelData header comes off, the datagram goes from the relayed
// address to the peer.
void expect_stripped(const Verdict& result, const Channel& c, const Bytes& data);
// Peer -> client: the datagram goes to the client as ChannelData from the listener.
void expect_wrapped(const Verdict& result, const Channel& c, const Endpoint& server,
                    const Bytes& data);

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
        // ./test.sh runs as root with CAP_BPF and CAP_NET_ADMIN: a program that does not
        // load is a failure here, never a skip (the fallback is tested in
        // tests/integration/test_fast_path.py).
        ASSERT_NE(program_, nullptr) << "cannot load the XDP program: " << load_error_;
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

}  // namespace hearth::xdp::test
