#include "tests/xdp/frames.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace hearth::xdp::test {

namespace {

constexpr std::size_t ethernet = 14;
const std::array<std::uint8_t, 12> test_macs = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};

void put16(Bytes& out, std::size_t at, std::uint16_t value) {
    out[at] = static_cast<std::uint8_t>(value >> 8);
    out[at + 1] = static_cast<std::uint8_t>(value);
}

std::uint16_t get16(const Bytes& in, std::size_t at) {
    return static_cast<std::uint16_t>(in[at] << 8 | in[at + 1]);
}

// RFC 1071: the ones' complement sum of big-endian 16-bit words, an odd byte padded.
std::uint32_t sum(const std::uint8_t* bytes, std::size_t size, std::uint32_t start = 0) {
    std::uint32_t total = start;
    for (std::size_t i = 0; i + 1 < size; i += 2) {
        total += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
    }
    if (size % 2 != 0) {
        total += static_cast<std::uint32_t>(bytes[size - 1] << 8);
    }
    return total;
}

std::uint16_t finish(std::uint32_t total) {
    while (total >> 16 != 0) {
        total = (total & 0xffff) + (total >> 16);
    }
    return static_cast<std::uint16_t>(~total);
}

// The UDP checksum from scratch over the pseudo-header and the datagram (its checksum
// field counted as zero); a computed zero goes as all ones.
std::uint16_t udp_checksum(bool v6, const std::uint8_t* source, const std::uint8_t* destination,
                           const std::uint8_t* udp, std::size_t length) {
    const std::size_t address = v6 ? 16 : 4;
    std::uint32_t total = sum(source, address) + sum(destination, address);
    total += 17 + static_cast<std::uint32_t>(length);  // protocol, UDP length
    Bytes datagram(udp, udp + length);
    datagram[6] = datagram[7] = 0;
    const std::uint16_t result = finish(sum(datagram.data(), datagram.size(), total));
    return result == 0 ? 0xffff : result;
}

}  // namespace

Endpoint ipv4(const std::string& address, std::uint16_t port) {
    Endpoint endpoint;
    inet_pton(AF_INET, address.c_str(), endpoint.ip.data());
    endpoint.port = port;
    return endpoint;
}

Endpoint ipv6(const std::string& address, std::uint16_t port) {
    Endpoint endpoint;
    inet_pton(AF_INET6, address.c_str(), endpoint.ip.data());
    endpoint.port = port;
    return endpoint;
}

Bytes channel_data(std::uint16_t channel, const Bytes& data) {
    Bytes out(4 + data.size());
    put16(out, 0, channel);
    put16(out, 2, static_cast<std::uint16_t>(data.size()));
    std::copy(data.begin(), data.end(), out.begin() + 4);
    return out;
}

Bytes build(const Frame& frame) {
    const std::size_t ip_header = frame.v6 ? 40 : 20;
    const std::size_t udp_length = 8 + frame.payload.size();
    Bytes out(ethernet + ip_header + udp_length);
    std::memcpy(out.data(), test_macs.data(), test_macs.size());
    put16(out, 12, frame.v6 ? 0x86dd : 0x0800);
    std::uint8_t* ip = out.data() + ethernet;
    if (frame.v6) {
        ip[0] = 0x60;
        put16(out, ethernet + 4, static_cast<std::uint16_t>(udp_length));
        ip[6] = 17;
        ip[7] = frame.ttl;
        std::memcpy(ip + 8, frame.source.ip.data(), 16);
        std::memcpy(ip + 24, frame.destination.ip.data(), 16);
    } else {
        ip[0] = 0x45;
        put16(out, ethernet + 2, static_cast<std::uint16_t>(20 + udp_length));
        put16(out, ethernet + 4, 0x1234);  // identification
        put16(out, ethernet + 6, 0x4000);  // don't fragment
        ip[8] = frame.ttl;
        ip[9] = 17;
        std::memcpy(ip + 12, frame.source.ip.data(), 4);
        std::memcpy(ip + 16, frame.destination.ip.data(), 4);
        put16(out, ethernet + 10, finish(sum(ip, 20)));
    }
    const std::size_t udp = ethernet + ip_header;
    put16(out, udp, frame.source.port);
    put16(out, udp + 2, frame.destination.port);
    put16(out, udp + 4, static_cast<std::uint16_t>(udp_length));
    std::memcpy(out.data() + udp + 8, frame.payload.data(), frame.payload.size());
    if (!frame.zero_udp_checksum || frame.v6) {
        put16(out, udp + 6,
              udp_checksum(frame.v6, frame.source.ip.data(), frame.destination.ip.data(),
                           out.data() + udp, udp_length));
    }
    return out;
}

Parsed parse(const Bytes& frame) {
    Parsed parsed;
    if (frame.size() < ethernet + 28) {
        return parsed;
    }
    std::memcpy(parsed.macs.data(), frame.data(), parsed.macs.size());
    const std::uint16_t type = get16(frame, 12);
    parsed.v6 = type == 0x86dd;
    if (type != 0x0800 && type != 0x86dd) {
        return parsed;
    }
    const std::uint8_t* ip = frame.data() + ethernet;
    const std::size_t ip_header = parsed.v6 ? 40 : 20;
    const std::size_t address = parsed.v6 ? 16 : 4;
    if (frame.size() < ethernet + ip_header + 8) {
        return parsed;
    }
    std::memcpy(parsed.source.ip.data(), ip + (parsed.v6 ? 8 : 12), address);
    std::memcpy(parsed.destination.ip.data(), ip + (parsed.v6 ? 24 : 16), address);
    parsed.ttl = parsed.v6 ? ip[7] : ip[8];
    const std::size_t udp = ethernet + ip_header;
    const std::size_t udp_length = get16(frame, udp + 4);
    const std::size_t ip_length =
        parsed.v6 ? get16(frame, ethernet + 4) + 40u : get16(frame, ethernet + 2);
    if (ip_length != ip_header + udp_length || frame.size() < ethernet + ip_length ||
        udp_length < 8) {
        return parsed;
    }
    parsed.ip_checksum_ok = parsed.v6 || finish(sum(ip, 20)) == 0;
    parsed.source.port = get16(frame, udp);
    parsed.destination.port = get16(frame, udp + 2);
    parsed.udp_checksum = get16(frame, udp + 6);
    parsed.udp_checksum_ok = parsed.udp_checksum == udp_checksum(parsed.v6, parsed.source.ip.data(),
                                                                 parsed.destination.ip.data(),
                                                                 frame.data() + udp, udp_length);
    parsed.payload.assign(frame.begin() + static_cast<std::ptrdiff_t>(udp + 8),
                          frame.begin() + static_cast<std::ptrdiff_t>(udp + udp_length));
    parsed.ok = true;
    return parsed;
}

}  // namespace hearth::xdp::test
