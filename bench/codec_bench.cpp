// The codec on the messages a relay sees most: ChannelData and Send indications, and the
// integrity check every authenticated request pays.

#include <benchmark/benchmark.h>

#include <array>

#include "relay/stun/channel_data.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message_builder.h"

namespace {

using namespace hearth;

stun::TransactionId transaction() {
    stun::TransactionId id{};
    id[11] = std::byte{1};
    return id;
}

void BM_ParseChannelData(benchmark::State& state) {
    std::array<std::byte, 1204> datagram{};
    datagram[0] = std::byte{0x40};
    datagram[2] = std::byte{0x04};
    datagram[3] = std::byte{0xB0};  // 1200 bytes of payload
    for (auto _ : state) {
        auto parsed = stun::parse_channel_data(datagram);
        benchmark::DoNotOptimize(parsed);
    }
}
BENCHMARK(BM_ParseChannelData);

void BM_ParseSendIndication(benchmark::State& state) {
    std::array<std::byte, 1500> buffer{};
    std::array<std::byte, 1200> payload{};
    stun::MessageBuilder builder(buffer, stun::Method::send, stun::MessageClass::indication,
                                 transaction());
    builder.add_xor_address(stun::attribute::xor_peer_address,
                            *TransportAddress::parse("8.8.8.8:5000"));
    builder.add(stun::attribute::data, payload);
    const auto message = builder.finish();
    for (auto _ : state) {
        auto parsed = stun::MessageView::parse(message);
        benchmark::DoNotOptimize(parsed);
    }
}
BENCHMARK(BM_ParseSendIndication);

void BM_VerifyMessageIntegrity(benchmark::State& state) {
    std::array<std::byte, 512> buffer{};
    const auto key = stun::long_term_key_md5("1700000000:s1:alice", "hearth", "password");
    stun::MessageBuilder builder(buffer, stun::Method::refresh, stun::MessageClass::request,
                                 transaction());
    builder.add_string(stun::attribute::username, "1700000000:s1:alice");
    builder.add_string(stun::attribute::realm, "hearth");
    builder.add_string(stun::attribute::nonce, "0000000065000000abcdefabcdefabcdefabcdef");
    builder.add_message_integrity(key);
    builder.add_fingerprint();
    const auto message = *stun::MessageView::parse(builder.finish());
    for (auto _ : state) {
        benchmark::DoNotOptimize(stun::verify_message_integrity(message, key));
    }
}
BENCHMARK(BM_VerifyMessageIntegrity);

}  // namespace
