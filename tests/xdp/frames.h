#pragma once

// Ethernet + IPv4/IPv6 + UDP frames built by hand with correct checksums, and their fields
// read back, for driving the XDP program (bpf_prog_test_run) and checking what it wrote.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hearth::xdp::test {

using Bytes = std::vector<std::uint8_t>;

struct Endpoint {
    std::array<std::uint8_t, 16> ip{};  // IPv4 in the first 4 bytes, the rest zero
    std::uint16_t port = 0;
};

Endpoint ipv4(const std::string& address, std::uint16_t port);
Endpoint ipv6(const std::string& address, std::uint16_t port);

struct Frame {
    bool v6 = false;
    Endpoint source;
    Endpoint destination;
    Bytes payload;  // the UDP payload
    std::uint8_t ttl = 17;
    bool zero_udp_checksum = false;  // IPv4 only: no checksum (RFC 768)
};

// The frame with correct IP and UDP checksums.
Bytes build(const Frame& frame);
// ChannelData (RFC 8656 §12.4): channel number, length, data.
Bytes channel_data(std::uint16_t channel, const Bytes& data);

// What a frame says, with its checksums checked from scratch.
struct Parsed {
    bool ok = false;  // Ethernet + IPv4/IPv6 + UDP, lengths agreeing
    bool v6 = false;
    Endpoint source;
    Endpoint destination;
    std::uint8_t ttl = 0;
    std::uint16_t udp_checksum = 0;
    bool ip_checksum_ok = false;   // IPv4 header checksum (IPv6: true)
    bool udp_checksum_ok = false;  // the UDP checksum as computed from scratch
    Bytes payload;
    std::array<std::uint8_t, 12> macs{};  // destination, source
};
Parsed parse(const Bytes& frame);

}  // namespace hearth::xdp::test
