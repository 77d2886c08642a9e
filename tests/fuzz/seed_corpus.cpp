// Writes each fuzz target's seed corpus: the codec tests' messages (RFC 5769 vectors and
// builder-made TURN requests), configs, usernames, admin API targets and TURN scripts.
// Usage: seed_corpus OUTPUT_DIR SOURCE_DIR

#include <openssl/ssl.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "../stun/byte_helpers.h"
#include "../stun/rfc5769_vectors.h"
#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message_builder.h"
#include "turn_script.h"

namespace fs = std::filesystem;
using namespace hearth;
using namespace hearth::stun;

namespace {

using Blob = std::vector<std::byte>;

Blob blob(std::string_view text) {
    const auto* begin = reinterpret_cast<const std::byte*>(text.data());
    return {begin, begin + text.size()};
}

// An OpenSSL client's first flight: its ClientHello, naming `server_name` if given.
Blob client_hello(const char* server_name) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(context);
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, BIO_new(BIO_s_mem()), out);
    if (server_name != nullptr) {
        SSL_set_tlsext_host_name(ssl, server_name);
    }
    SSL_connect(ssl);
    char* data = nullptr;
    const long length = BIO_get_mem_data(out, &data);
    Blob hello(reinterpret_cast<std::byte*>(data), reinterpret_cast<std::byte*>(data) + length);
    SSL_free(ssl);
    SSL_CTX_free(context);
    return hello;
}

class Corpus {
  public:
    explicit Corpus(fs::path root) : root_(std::move(root)) {}

    void add(const std::string& target, const Blob& bytes) {
        const fs::path directory = root_ / target;
        fs::create_directories(directory);
        std::ofstream out(directory / ("seed-" + std::to_string(++count_)), std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }

  private:
    fs::path root_;
    int count_ = 0;
};

TransactionId transaction(int n) {
    TransactionId id{};
    id[0] = static_cast<std::byte>(n);
    return id;
}

const TransportAddress peer = *TransportAddress::parse("8.8.8.8:5000");
const std::array<std::byte, 4> udp_transport{std::byte{17}, {}, {}, {}};
const std::array<std::byte, 4> tcp_transport{std::byte{6}, {}, {}, {}};

// A request signed as the TURN fixtures sign it: long-term credentials of s1:alice/pw.
template <typename Fill>
Blob signed_request(Method method, int n, Fill&& fill) {
    std::array<std::byte, max_message_size> buffer{};
    MessageBuilder builder(buffer, method, MessageClass::request, transaction(n));
    fill(builder);
    builder.add_string(attribute::username, "s1:alice");
    builder.add_string(attribute::realm, "hearth");
    builder.add_string(attribute::nonce, "fresh-nonce");
    builder.add_message_integrity(long_term_key_md5("s1:alice", "hearth", "pw"));
    builder.add_fingerprint();
    const auto bytes = builder.finish();
    return {bytes.begin(), bytes.end()};
}

Blob channel_bind(int n) {
    return signed_request(Method::channel_bind, n, [](MessageBuilder& builder) {
        builder.add_u32(attribute::channel_number, 0x40000000);
        builder.add_xor_address(attribute::xor_peer_address, peer);
    });
}

Blob channel_data(std::uint16_t channel, std::string_view payload, bool pad) {
    Blob out(channel_data_header_size);
    std::span<std::byte, channel_data_header_size> header(out.data(), channel_data_header_size);
    write_channel_data_header(header, channel, static_cast<std::uint16_t>(payload.size()));
    const Blob body = blob(payload);
    out.insert(out.end(), body.begin(), body.end());
    while (pad && out.size() % 4 != 0) {
        out.push_back(std::byte{0});
    }
    return out;
}

std::vector<Blob> turn_requests() {
    std::vector<Blob> requests;
    requests.push_back(signed_request(Method::allocate, 1, [](MessageBuilder& builder) {
        builder.add(attribute::requested_transport, udp_transport);
        builder.add_u32(attribute::lifetime, 600);
    }));
    requests.push_back(signed_request(Method::create_permission, 2, [](MessageBuilder& builder) {
        builder.add_xor_address(attribute::xor_peer_address, peer);
    }));
    requests.push_back(channel_bind(3));
    requests.push_back(signed_request(Method::refresh, 4, [](MessageBuilder& builder) {
        builder.add_u32(attribute::lifetime, 0);
    }));
    requests.push_back(signed_request(Method::allocate, 5, [](MessageBuilder& builder) {
        builder.add(attribute::requested_transport, tcp_transport);
    }));
    requests.push_back(signed_request(Method::connect, 6, [](MessageBuilder& builder) {
        builder.add_xor_address(attribute::xor_peer_address, peer);
    }));
    requests.push_back(signed_request(Method::connection_bind, 7, [](MessageBuilder& builder) {
        builder.add_u32(attribute::connection_id, 1);
    }));
    std::array<std::byte, 256> buffer{};
    MessageBuilder send(buffer, Method::send, MessageClass::indication, transaction(8));
    send.add_xor_address(attribute::xor_peer_address, peer);
    const Blob payload = blob("hello peer");
    send.add(attribute::data, payload);
    const auto indication = send.finish();
    requests.emplace_back(indication.begin(), indication.end());
    MessageBuilder binding(buffer, Method::binding, MessageClass::request, transaction(9));
    binding.add_fingerprint();
    const auto request = binding.finish();
    requests.emplace_back(request.begin(), request.end());
    MessageBuilder error(buffer, Method::allocate, MessageClass::error_response, transaction(10));
    error.add_error_code(420, "Unknown Attribute");
    const std::array<std::uint16_t, 2> unknown{0x0031, 0x0032};
    error.add_unknown_attributes(unknown);
    const auto answer = error.finish();
    requests.emplace_back(answer.begin(), answer.end());
    return requests;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: seed_corpus OUTPUT_DIR SOURCE_DIR\n";
        return 2;
    }
    Corpus corpus{fs::path(argv[1])};
    const fs::path source(argv[2]);

    const auto requests = turn_requests();
    for (const auto* hex : {&testing::request_2_1, &testing::response_2_2, &testing::response_2_3,
                            &testing::request_2_4, &testing::request_b1_corrected}) {
        corpus.add("stun_message", testing::from_hex(*hex));
    }
    Blob stream;
    for (const auto& request : requests) {
        corpus.add("stun_message", request);
        stream.insert(stream.end(), request.begin(), request.end());
        const auto data = channel_data(0x4000, "media", true);
        stream.insert(stream.end(), data.begin(), data.end());
    }
    corpus.add("stream_framing", stream);
    corpus.add("stream_framing", channel_data(0x4001, "abc", true));

    // PROXY headers (proxy-protocol.txt §2.1, §2.2): v1 lines, v2 PROXY over IPv4 with a
    // TLV and a STUN request after it, v2 LOCAL.
    corpus.add("proxy_header", blob("PROXY TCP4 198.51.100.7 203.0.113.1 40000 3478\r\n"));
    corpus.add("proxy_header", blob("PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n"));
    corpus.add("proxy_header", blob("PROXY UNKNOWN\r\n"));
    const std::string_view v2_signature("\r\n\r\n\0\r\nQUIT\n", 12);
    Blob v2_proxy = blob(v2_signature);
    for (const int b : {0x21, 0x11, 0x00, 0x13, 198,  51,   100,  7, 203, 0, 113, 1,
                        0x9C, 0x40, 0x0D, 0x96, 0x04, 0x00, 0x04, 0, 0,   0, 0}) {
        v2_proxy.push_back(std::byte{static_cast<std::uint8_t>(b)});
    }
    v2_proxy.insert(v2_proxy.end(), requests[0].begin(), requests[0].end());
    corpus.add("proxy_header", v2_proxy);
    Blob v2_local = blob(v2_signature);
    for (const int b : {0x20, 0x00, 0x00, 0x00}) {
        v2_local.push_back(std::byte{static_cast<std::uint8_t>(b)});
    }
    corpus.add("proxy_header", v2_local);

    corpus.add("first_bytes", client_hello("app.example.org"));
    corpus.add("first_bytes", client_hello(nullptr));
    corpus.add("first_bytes", requests[0]);
    corpus.add("first_bytes", blob("GET / HTTP/1.1\r\n"));

    corpus.add("channel_data", channel_data(0x4000, "abcd", false));
    corpus.add("channel_data", channel_data(0x7FFF, "padded over udp", true));
    corpus.add("channel_data", channel_data(0x4000, "", false));

    for (const auto* username : {"1700000000:th-42:ann", "4102444800:s.1@x:therapist-7", "1:a:b",
                                 "99999999999:session:user:extra"}) {
        corpus.add("username", blob(username));
    }

    corpus.add("config", blob(read_file(source / "etc/hearth.conf")));
    corpus.add("config", blob("relay = { ipv4 = \"127.0.0.1\"; };\n"
                              "auth = { realm = \"r\"; secrets = ( { name = \"a\"; value = "
                              "\"0123456789abcdef\"; } ); };\n"));

    for (const auto* target :
         {"\x00/health", "\x00/v1/status", "\x00/v1/history",
          "\x00/v1/allocations?session=s1&user=ann", "\x00/v1/allocations/42",
          "\x01/v1/sessions/th-42/revoke?user=ann", "\x01/v1/credentials?session=s&user=u&ttl=60",
          "\x01/v1/drain?deadline=30", "\x01/v1/secrets?name=n&value=0123456789abcdef",
          "\x01/v1/secrets/old/retire", "\x02/v1/reload"}) {
        const std::string_view text(target, 1 + std::char_traits<char>::length(target + 1));
        corpus.add("admin_request", blob(text));
    }

    corpus.add("json_value",
               blob(R"({"allocations":[{"id":1,"session":"s","relayed":["1.2.3.4:5"],)"
                    R"("quality":0.97,"client_to_peer":{"packets":10}}]})"));
    corpus.add("json_value",
               blob(R"({"error":"no such endpoint","nested":[[1,2],{"a":null},true,"\u00e9"]})"));

    // A call's life: allocate, permit, bind, relay both ways, refresh, expire.
    fuzz::TurnScriptWriter script;
    script.message(fuzz::StepKind::client_stun, 0, requests[0]);
    script.message(fuzz::StepKind::client_stun, 0, requests[1]);
    script.message(fuzz::StepKind::client_stun, 0, requests[2]);
    script.message(fuzz::StepKind::client_channel_data, 0, channel_data(0x4000, "rtp", false));
    script.message(fuzz::StepKind::client_stun, 0, requests[7]);
    script.message(fuzz::StepKind::peer_datagram, 0, blob("from the peer"));
    script.time_passes(200);
    script.message(fuzz::StepKind::client_stun, 0, requests[3]);
    script.time_passes(255);
    corpus.add("turn_server", script.bytes());
    fuzz::TurnScriptWriter tcp;
    tcp.message(fuzz::StepKind::client_stun, 1, requests[4], true);
    tcp.message(fuzz::StepKind::client_stun, 1, requests[5], true);
    tcp.message(fuzz::StepKind::client_stun, 1, requests[6], true);
    corpus.add("turn_server", tcp.bytes());
    return 0;
}
