// The PROXY protocol header codec (haproxy's proxy-protocol.txt §2.1 and §2.2).

#include "relay/net/proxy_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace hearth;
using namespace hearth::relay;

namespace {

using Blob = std::vector<std::byte>;

Blob text(std::string_view line) {
    const auto* begin = reinterpret_cast<const std::byte*>(line.data());
    return {begin, begin + line.size()};
}

const Blob v2_signature = [] {
    const std::uint8_t bytes[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    Blob out;
    for (const auto b : bytes) {
        out.push_back(std::byte{b});
    }
    return out;
}();

// A v2 header: version/command byte, family/transport byte, then `block` (addresses and
// TLVs) with its length.
Blob v2(std::uint8_t version_command, std::uint8_t family_transport, const Blob& block) {
    Blob out = v2_signature;
    out.push_back(std::byte{version_command});
    out.push_back(std::byte{family_transport});
    out.push_back(std::byte{static_cast<std::uint8_t>(block.size() >> 8)});
    out.push_back(std::byte{static_cast<std::uint8_t>(block.size())});
    out.insert(out.end(), block.begin(), block.end());
    return out;
}

Blob bytes(std::initializer_list<int> values) {
    Blob out;
    for (const int v : values) {
        out.push_back(std::byte{static_cast<std::uint8_t>(v)});
    }
    return out;
}

Blob concat(Blob a, const Blob& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// 198.51.100.7:40000 -> 203.0.113.1:3478
const Blob inet_block = bytes({198, 51, 100, 7, 203, 0, 113, 1, 0x9C, 0x40, 0x0D, 0x96});
const Blob inet6_block = [] {
    Blob out = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07});
    const Blob destination = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    out.insert(out.end(), destination.begin(), destination.end());
    const Blob ports = bytes({0x9C, 0x40, 0x0D, 0x96});
    out.insert(out.end(), ports.begin(), ports.end());
    return out;
}();

ProxyHeader parsed(const Blob& received) {
    const auto result = parse_proxy_header(received);
    EXPECT_TRUE(std::holds_alternative<ProxyHeader>(result));
    return std::holds_alternative<ProxyHeader>(result) ? std::get<ProxyHeader>(result)
                                                       : ProxyHeader{};
}

std::optional<ProxyHeaderError> error_of(const Blob& received) {
    const auto result = parse_proxy_header(received);
    if (!std::holds_alternative<ProxyHeaderError>(result)) {
        return std::nullopt;
    }
    return std::get<ProxyHeaderError>(result);
}

// Every proper prefix of a complete header asks for more bytes.
void expect_need_more_before_complete(const Blob& header) {
    for (std::size_t n = 0; n < header.size(); ++n) {
        const Blob prefix(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_TRUE(std::holds_alternative<ProxyHeaderNeedMore>(parse_proxy_header(prefix)))
            << "at " << n << " of " << header.size();
    }
}

TEST(ProxyHeaderV1, Tcp4WithTheStreamAfterIt) {
    const Blob header = text("PROXY TCP4 198.51.100.7 203.0.113.1 40000 3478\r\n");
    const auto result = parsed(concat(header, text("\x00\x01rest")));
    EXPECT_EQ(result.version, 1);
    EXPECT_EQ(result.size, header.size());
    ASSERT_TRUE(result.source);
    EXPECT_EQ(result.source->to_string(), "198.51.100.7:40000");
    EXPECT_EQ(result.destination->to_string(), "203.0.113.1:3478");
    expect_need_more_before_complete(header);
}

TEST(ProxyHeaderV1, Tcp6) {
    const Blob header = text("PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n");
    const auto result = parsed(header);
    ASSERT_TRUE(result.source);
    EXPECT_EQ(result.source->to_string(), "[2001:db8::7]:40000");
    EXPECT_EQ(result.destination->to_string(), "[2001:db8::1]:443");
    expect_need_more_before_complete(header);
}

TEST(ProxyHeaderV1, UnknownCarriesNoAddressAndIgnoresTheRestOfTheLine) {
    for (const auto* line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
        const auto result = parsed(text(line));
        EXPECT_FALSE(result.source) << line;
        EXPECT_EQ(result.size, std::string_view(line).size());
    }
}

// §2.1's worst case: UNKNOWN followed by the longest TCP6 fields.
TEST(ProxyHeaderV1, LongestLineIs107Bytes) {
    const std::string longest =
        "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    ASSERT_EQ(longest.size(), proxy_v1_max_size);
    EXPECT_EQ(parsed(text(longest)).size, 107u);
}

TEST(ProxyHeaderV1, NoCrlfWithin107BytesIsTooLong) {
    const std::string line = "PROXY UNKNOWN " + std::string(100, 'x');
    EXPECT_EQ(error_of(text(line)), ProxyHeaderError::too_long);
    EXPECT_EQ(error_of(text(line + "\r\n")), ProxyHeaderError::too_long);
    // One short of the bound still waits.
    EXPECT_TRUE(std::holds_alternative<ProxyHeaderNeedMore>(
        parse_proxy_header(text(line.substr(0, proxy_v1_max_size - 1)))));
}

TEST(ProxyHeaderV1, MalformedLines) {
    for (const auto* line : {
             "PROXY TCP4 198.51.100.7 203.0.113.1 40000 65536\r\n",   // port out of range
             "PROXY TCP4 198.51.100.7 203.0.113.1 040000 3478\r\n",   // leading zero
             "PROXY TCP4 198.51.100.7 203.0.113.1 -1 3478\r\n",       // not a number
             "PROXY TCP4 198.51.100.7 203.0.113.1 40000\r\n",         // a field missing
             "PROXY TCP4 198.51.100.7 203.0.113.1 40000 3478 9\r\n",  // one too many
             "PROXY TCP4 198.51.100.7  203.0.113.1 40000 3478\r\n",   // double space
             "PROXY TCP4 2001:db8::7 203.0.113.1 40000 3478\r\n",     // family mismatch
             "PROXY TCP6 198.51.100.7 203.0.113.1 40000 3478\r\n",    // family mismatch
             "PROXY TCP4 198.51.100.300 203.0.113.1 40000 3478\r\n",  // bad address
             "PROXY UDP4 198.51.100.7 203.0.113.1 40000 3478\r\n",    // unknown protocol
             "PROXY \r\n",
             "PROXY TCP4 1.2.3.4\n",   // a bare LF
             "PROXY TCP4 1.2\r3.4",    // a bare CR
             "PROXY TCP4 1.2\r3.4\r",  // a bare CR, another one last (found by the fuzzer)
             "PROXY UNKNOWN \n\r\n",   // a bare LF, even where the line is ignored
         }) {
        EXPECT_EQ(error_of(text(line)), ProxyHeaderError::malformed) << line;
    }
}

TEST(ProxyHeaderV2, ProxyInet) {
    const Blob header = v2(0x21, 0x11, inet_block);
    const auto result = parsed(concat(header, text("stun")));
    EXPECT_EQ(result.version, 2);
    EXPECT_EQ(result.size, 28u);
    ASSERT_TRUE(result.source);
    EXPECT_EQ(result.source->to_string(), "198.51.100.7:40000");
    EXPECT_EQ(result.destination->to_string(), "203.0.113.1:3478");
    expect_need_more_before_complete(header);
}

TEST(ProxyHeaderV2, ProxyInet6) {
    const Blob header = v2(0x21, 0x21, inet6_block);
    const auto result = parsed(header);
    EXPECT_EQ(result.size, 52u);
    ASSERT_TRUE(result.source);
    EXPECT_EQ(result.source->to_string(), "[2001:db8::7]:40000");
    EXPECT_EQ(result.destination->to_string(), "[2001:db8::1]:3478");
    expect_need_more_before_complete(header);
}

TEST(ProxyHeaderV2, TlvsAreSkipped) {
    // PP2_TYPE_ALPN "stun.turn" and PP2_TYPE_NOOP with padding (§2.2.1, §2.2.3).
    const Blob tlvs = concat(concat(bytes({0x01, 0x00, 0x09}), text("stun.turn")),
                             bytes({0x04, 0x00, 0x03, 0, 0, 0}));
    const Blob header = v2(0x21, 0x11, concat(inet_block, tlvs));
    const auto result = parsed(concat(header, text("next")));
    EXPECT_EQ(result.size, header.size());
    EXPECT_EQ(result.source->to_string(), "198.51.100.7:40000");
    expect_need_more_before_complete(header);
}

TEST(ProxyHeaderV2, LocalKeepsTheConnectionsAddress) {
    const auto with_block = parsed(v2(0x20, 0x11, inet_block));
    EXPECT_FALSE(with_block.source);
    EXPECT_EQ(with_block.size, 28u);
    const auto empty = parsed(v2(0x20, 0x00, {}));
    EXPECT_FALSE(empty.source);
    EXPECT_EQ(empty.size, 16u);
}

TEST(ProxyHeaderV2, UnspecAndUnixFamiliesCarryNoIpAddress) {
    EXPECT_FALSE(parsed(v2(0x21, 0x00, {})).source);
    EXPECT_FALSE(parsed(v2(0x21, 0x31, Blob(216))).source);
}

TEST(ProxyHeaderV2, RefusesWhatTheSpecForbids) {
    EXPECT_EQ(error_of(v2(0x11, 0x11, inet_block)), ProxyHeaderError::malformed);  // version 1
    EXPECT_EQ(error_of(v2(0x31, 0x11, inet_block)), ProxyHeaderError::malformed);  // version 3
    EXPECT_EQ(error_of(v2(0x22, 0x11, inet_block)), ProxyHeaderError::malformed);  // command 2
    EXPECT_EQ(error_of(v2(0x21, 0x41, inet_block)), ProxyHeaderError::malformed);  // family 4
    EXPECT_EQ(error_of(v2(0x21, 0x12, inet_block)), ProxyHeaderError::malformed);  // DGRAM
    EXPECT_EQ(error_of(v2(0x21, 0x13, inet_block)), ProxyHeaderError::malformed);  // transport 3
    // A length too short for the family's addresses.
    EXPECT_EQ(error_of(v2(0x21, 0x11, Blob(11))), ProxyHeaderError::malformed);
    EXPECT_EQ(error_of(v2(0x21, 0x21, inet_block)), ProxyHeaderError::malformed);
}

TEST(ProxyHeaderV2, OversizeIsRefusedFromTheFixedPart) {
    Blob header = v2(0x21, 0x11, inet_block);
    const std::size_t length = proxy_v2_max_size - 16 + 1;
    header[14] = std::byte{static_cast<std::uint8_t>(length >> 8)};
    header[15] = std::byte{static_cast<std::uint8_t>(length)};
    // Decided on the 16 fixed bytes, without waiting for the rest.
    EXPECT_EQ(error_of(Blob(header.begin(), header.begin() + 16)), ProxyHeaderError::too_long);
    const Blob largest = v2(0x21, 0x11, concat(inet_block, Blob(proxy_v2_max_size - 28)));
    EXPECT_EQ(parsed(largest).size, proxy_v2_max_size);
}

TEST(ProxyHeader, BadSignatures) {
    EXPECT_EQ(error_of(text("GET / HTTP/1.1\r\n")), ProxyHeaderError::not_proxy_header);
    EXPECT_EQ(error_of(text("PROXY\r\n")), ProxyHeaderError::not_proxy_header);
    EXPECT_EQ(error_of(text("proxy TCP4")), ProxyHeaderError::not_proxy_header);
    EXPECT_EQ(error_of(bytes({0x00, 0x01, 0x00, 0x00})), ProxyHeaderError::not_proxy_header);
    Blob almost = v2_signature;
    almost[11] = std::byte{0x0B};
    EXPECT_EQ(error_of(almost), ProxyHeaderError::not_proxy_header);
    EXPECT_TRUE(std::holds_alternative<ProxyHeaderNeedMore>(parse_proxy_header({})));
}

TEST(ProxyHeader, LooksLikeEitherSignature) {
    EXPECT_TRUE(looks_like_proxy_header(text("PROX")));
    EXPECT_TRUE(looks_like_proxy_header(text("PROXY TCP4 ")));
    EXPECT_TRUE(looks_like_proxy_header(v2(0x21, 0x11, inet_block)));
    EXPECT_FALSE(looks_like_proxy_header(bytes({0x00, 0x01, 0x00, 0x00})));
    EXPECT_FALSE(looks_like_proxy_header({}));
}

}  // namespace
