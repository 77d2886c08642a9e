// Telling TURN over TCP, TLS for TURN and TLS for another service apart from the first
// bytes of a connection (RFC 8656 §12, RFC 7983 §7, RFC 8446 §4.1.2, RFC 6066 §3). The
// ClientHellos are OpenSSL's own, as a client sends them.

#include "relay/net/first_bytes.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>
#include <vector>

using namespace hearth::relay;

namespace {

using Blob = std::vector<std::byte>;

Blob text(std::string_view line) {
    const auto* begin = reinterpret_cast<const std::byte*>(line.data());
    return {begin, begin + line.size()};
}

// The first flight of an OpenSSL client: one TLS record holding its ClientHello.
Blob client_hello(const char* server_name) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(context);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    if (server_name != nullptr) {
        SSL_set_tlsext_host_name(ssl, server_name);
    }
    SSL_connect(ssl);  // wants to read the answer; the ClientHello is written by then
    char* data = nullptr;
    const long length = BIO_get_mem_data(out, &data);
    Blob hello(reinterpret_cast<std::byte*>(data), reinterpret_cast<std::byte*>(data) + length);
    SSL_free(ssl);
    SSL_CTX_free(context);
    return hello;
}

// The same handshake message in records of at most `size` bytes each (RFC 8446 §5.1).
Blob split_into_records(const Blob& single_record, std::size_t size) {
    const Blob message(single_record.begin() + 5, single_record.end());
    Blob records;
    for (std::size_t at = 0; at < message.size(); at += size) {
        const std::size_t length = std::min(size, message.size() - at);
        records.insert(records.end(), single_record.begin(), single_record.begin() + 3);
        records.push_back(std::byte{static_cast<std::uint8_t>(length >> 8)});
        records.push_back(std::byte{static_cast<std::uint8_t>(length)});
        records.insert(records.end(), message.begin() + static_cast<long>(at),
                       message.begin() + static_cast<long>(at + length));
    }
    return records;
}

const Blob binding_request = {std::byte{0x00}, std::byte{0x01}, std::byte{0x00}, std::byte{0x00},
                              std::byte{0x21}, std::byte{0x12}, std::byte{0xA4}, std::byte{0x42},
                              std::byte{0x01}, std::byte{0x02}, std::byte{0x03}, std::byte{0x04}};

FirstBytesKind kind_of(const Blob& bytes) {
    return classify_first_bytes(bytes).kind;
}

}  // namespace

TEST(FirstBytes, AStunHeaderWithTheMagicCookieIsTurn) {
    EXPECT_EQ(kind_of(binding_request), FirstBytesKind::turn);
}

TEST(FirstBytes, ChannelDataCannotOpenAConnection) {
    // It needs a channel that connection's allocation bound (RFC 8656 §12).
    EXPECT_EQ(kind_of({std::byte{0x40}}), FirstBytesKind::unknown);
    EXPECT_EQ(kind_of({std::byte{0x4F}}), FirstBytesKind::unknown);
}

TEST(FirstBytes, AStunHeaderIsAwaitedUntilItsCookie) {
    for (std::size_t length = 0; length < 8; ++length) {
        const Blob prefix(binding_request.begin(), binding_request.begin() + length);
        EXPECT_EQ(kind_of(prefix), FirstBytesKind::need_more) << length;
    }
}

TEST(FirstBytes, WhatIsNeitherTurnNorTlsIsUnknown) {
    EXPECT_EQ(kind_of(text("GET / HTTP/1.1\r\nHost: relay\r\n\r\n")), FirstBytesKind::unknown);
    EXPECT_EQ(kind_of(text("SSH-2.0-OpenSSH_9.2\r\n")), FirstBytesKind::unknown);
    EXPECT_EQ(kind_of(text("CONNECT relay:443 HTTP/1.1\r\n")), FirstBytesKind::unknown);
    Blob no_cookie = binding_request;
    no_cookie[4] = std::byte{0};
    EXPECT_EQ(kind_of(no_cookie), FirstBytesKind::unknown);
}

TEST(FirstBytes, AClientHelloTellsTheNameItAsksForInLowerCase) {
    const auto first = classify_first_bytes(client_hello("App.Example.ORG"));
    EXPECT_EQ(first.kind, FirstBytesKind::tls);
    EXPECT_EQ(first.server_name, "app.example.org");
}

TEST(FirstBytes, AClientHelloWithoutServerNameIsTlsWithNone) {
    const auto first = classify_first_bytes(client_hello(nullptr));
    EXPECT_EQ(first.kind, FirstBytesKind::tls);
    EXPECT_EQ(first.server_name, "");
}

TEST(FirstBytes, EveryProperPrefixOfAClientHelloNeedsMore) {
    const Blob hello = client_hello("app.example.org");
    for (std::size_t length = 0; length < hello.size(); ++length) {
        const Blob prefix(hello.begin(), hello.begin() + static_cast<long>(length));
        ASSERT_EQ(kind_of(prefix), FirstBytesKind::need_more) << length;
    }
}

TEST(FirstBytes, AClientHelloSplitOverRecordsIsJoined) {
    const Blob hello = client_hello("app.example.org");
    for (const std::size_t size : {1U, 7U, 100U}) {
        const auto first = classify_first_bytes(split_into_records(hello, size));
        EXPECT_EQ(first.kind, FirstBytesKind::tls) << size;
        EXPECT_EQ(first.server_name, "app.example.org") << size;
    }
}

TEST(FirstBytes, AnotherHandshakeMessageIsMalformed) {
    Blob hello = client_hello(nullptr);
    hello[5] = std::byte{2};  // ServerHello, which no client sends
    EXPECT_EQ(kind_of(hello), FirstBytesKind::malformed);
}

TEST(FirstBytes, ExtensionsRunningPastTheMessageAreMalformed) {
    Blob hello = client_hello("app.example.org");
    // The last byte of the handshake body is dropped from the record, the handshake and
    // the extensions lengths alike, leaving the last extension short of its data.
    hello.pop_back();
    const auto shorten = [&hello](std::size_t at, std::size_t width) {
        std::size_t value = 0;
        for (std::size_t i = 0; i < width; ++i) {
            value = value << 8 | static_cast<std::uint8_t>(hello[at + i]);
        }
        --value;
        for (std::size_t i = width; i-- > 0;) {
            hello[at + i] = std::byte{static_cast<std::uint8_t>(value)};
            value >>= 8;
        }
    };
    shorten(3, 2);  // record length
    shorten(6, 3);  // handshake length
    EXPECT_EQ(kind_of(hello), FirstBytesKind::malformed);
}

TEST(FirstBytes, ARecordOfAnotherTypeOrVersionIsMalformed) {
    Blob hello = client_hello(nullptr);
    hello[1] = std::byte{0x02};
    EXPECT_EQ(kind_of(hello), FirstBytesKind::malformed);
}

TEST(FirstBytes, AClientHelloPastItsBoundIsTooLong) {
    // A handshake header announcing more than client_hello_max_size.
    const Blob huge = {std::byte{22},   std::byte{3},    std::byte{1},
                       std::byte{0},    std::byte{4},    std::byte{1},
                       std::byte{0x01}, std::byte{0x00}, std::byte{0x00}};
    EXPECT_EQ(kind_of(huge), FirstBytesKind::too_long);
}

TEST(FirstBytes, RecordsTooSmallToHoldTheHelloWithinTheBoundAreTooLong) {
    // 5 bytes of header for each byte of a ClientHello padded to 5 KiB.
    Blob hello = {std::byte{22}, std::byte{3}, std::byte{1},    std::byte{0x14}, std::byte{0x04},
                  std::byte{1},  std::byte{0}, std::byte{0x14}, std::byte{0x00}};
    hello.resize(5 + 0x1404, std::byte{0});
    EXPECT_EQ(kind_of(split_into_records(hello, 1)), FirstBytesKind::too_long);
}
