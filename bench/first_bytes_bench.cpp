// What a multiplexing listener (listen.mux) spends telling a connection apart, once per
// connection, before its first message: a browser's ClientHello (OpenSSL's, naming a
// host, as a turns: URL makes Chromium send) and a STUN Allocate's header.

#include <benchmark/benchmark.h>
#include <openssl/ssl.h>

#include <vector>

#include "relay/net/first_bytes.h"

using namespace hearth::relay;

namespace {

std::vector<std::byte> client_hello() {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(context);
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, BIO_new(BIO_s_mem()), out);
    SSL_set_tlsext_host_name(ssl, "turn.example.org");
    SSL_connect(ssl);
    char* data = nullptr;
    const long length = BIO_get_mem_data(out, &data);
    std::vector<std::byte> hello(reinterpret_cast<std::byte*>(data),
                                 reinterpret_cast<std::byte*>(data) + length);
    SSL_free(ssl);
    SSL_CTX_free(context);
    return hello;
}

void BM_ClassifyClientHello(benchmark::State& state) {
    const auto hello = client_hello();
    for (auto _ : state) {
        auto first = classify_first_bytes(hello);
        benchmark::DoNotOptimize(first);
    }
    state.counters["bytes"] = static_cast<double>(hello.size());
}
BENCHMARK(BM_ClassifyClientHello);

void BM_ClassifyStunHeader(benchmark::State& state) {
    const std::vector<std::byte> allocate = {std::byte{0x00}, std::byte{0x03}, std::byte{0x00},
                                             std::byte{0x08}, std::byte{0x21}, std::byte{0x12},
                                             std::byte{0xA4}, std::byte{0x42}};
    for (auto _ : state) {
        auto first = classify_first_bytes(allocate);
        benchmark::DoNotOptimize(first);
    }
}
BENCHMARK(BM_ClassifyStunHeader);

}  // namespace
