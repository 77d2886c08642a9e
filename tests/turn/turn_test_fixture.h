#pragma once

// A TurnServer with test doubles for its collaborators, and a client that speaks to it.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "relay/stun/message_builder.h"
#include "turn_fakes.h"

namespace hearth::turn::testing {

// The parsed answer to a request, with its bytes kept alive.
struct Answer {
    std::vector<std::byte> bytes;
    stun::MessageView message() const { return *stun::MessageView::parse(bytes); }
    bool is_success() const {
        return message().message_class() == stun::MessageClass::success_response;
    }
    int error_code() const {
        const auto view = message();
        const auto value = view.find(stun::attribute::error_code);
        return value ? stun::decode_error_code(*value)->code : 0;
    }
};

class TurnServerTest : public ::testing::Test {
  protected:
    TurnServerTest() : TurnServerTest(authenticator_) {}
    // A server whose credentials and session store are `authenticator`'s (the fake's
    // until the test's fixture hands in another; the reference is only kept here).
    explicit TurnServerTest(Authenticator& authenticator)
        : limits_{AllocationQuota(100, 3), SessionBudgets(0),
                  SourceBanList(10, Seconds{60}, Seconds{300}, 30)},
          server_(ServerSettings{}, PeerPolicy{}, authenticator, relay_sockets_, events_, limits_,
                  1) {}

    static constexpr std::uint16_t relay_port_base = 50000;
    TransportAddress client_ = *TransportAddress::parse("198.51.100.7:40000");
    const TransportAddress server_address_ = *TransportAddress::parse("192.0.2.1:3478");
    const TransportAddress peer_ = *TransportAddress::parse("8.8.8.8:5000");
    ClientTransport transport_ = ClientTransport::udp;
    FiveTuple tuple() const { return {client_, server_address_, transport_}; }

    Now now_{TimePoint{} + std::chrono::hours(1), 1'700'000'000};
    void advance(Seconds by) {
        now_.monotonic += by;
        now_.unix_seconds += by.count();
    }

    stun::TransactionId next_transaction() {
        stun::TransactionId id{};
        id[0] = static_cast<std::byte>(++transaction_counter_);
        id[1] = static_cast<std::byte>(transaction_counter_ >> 8);
        return id;
    }

    // Builds a request; `add` appends the method's attributes; credentials go last.
    template <typename Fill>
    Answer request(stun::Method method, Fill&& add, bool with_credentials = true,
                   std::string_view nonce = "fresh-nonce", std::string_view username = "s1:alice",
                   std::optional<stun::TransactionId> id = std::nullopt,
                   std::string_view password = "pw") {
        std::array<std::byte, 1024> buffer{};
        const auto transaction = id.value_or(next_transaction());
        last_transaction_ = transaction;
        stun::MessageBuilder builder(buffer, method, stun::MessageClass::request, transaction);
        add(builder, transaction);
        if (with_credentials) {
            add_credentials(builder, username, nonce, password);
        }
        builder.add_fingerprint();
        const auto bytes = builder.finish();
        const auto parsed = stun::MessageView::parse(bytes);
        EXPECT_TRUE(parsed.has_value());
        const auto outcome = receiving_server_->handle_stun(*parsed, tuple(), now_, &link_);
        last_send_ = outcome.to_peer;
        last_outcome_ = outcome;
        return Answer{{outcome.response.begin(), outcome.response.end()}};
    }

    // How request() signs: as an RFC 5389 client (every browser) unless a test says otherwise.
    struct Signing {
        bool sha256 = false;    // PASSWORD-ALGORITHM(S) SHA-256 and MESSAGE-INTEGRITY-SHA256
        bool userhash = false;  // USERHASH in place of USERNAME
    };
    Signing signing_;

    void add_credentials(stun::MessageBuilder& builder, std::string_view username,
                         std::string_view nonce, std::string_view password) const {
        if (signing_.userhash) {
            builder.add(stun::attribute::userhash, stun::userhash(username, "hearth"));
        } else {
            builder.add_string(stun::attribute::username, username);
        }
        builder.add_string(stun::attribute::realm, "hearth");
        builder.add_string(stun::attribute::nonce, nonce);
        if (signing_.sha256) {
            builder.add(stun::attribute::password_algorithms, offered_password_algorithms());
            builder.add(stun::attribute::password_algorithm,
                        stun::encode_password_algorithm(stun::PasswordAlgorithm::sha256));
            builder.add_message_integrity_sha256(
                stun::long_term_key_sha256(username, "hearth", password));
        } else {
            builder.add_message_integrity(stun::long_term_key_md5(username, "hearth", password));
        }
    }

    static void udp_transport(stun::MessageBuilder& builder, const stun::TransactionId&) {
        const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
        builder.add(stun::attribute::requested_transport, udp);
    }

    Answer allocate() { return request(stun::Method::allocate, udp_transport); }
    Answer binding() {
        return request(
            stun::Method::binding, [](auto&, const auto&) {}, false);
    }

    Answer create_permission(const TransportAddress& peer) {
        return request(stun::Method::create_permission,
                       [&](stun::MessageBuilder& builder, const stun::TransactionId&) {
                           builder.add_xor_address(stun::attribute::xor_peer_address, peer);
                       });
    }

    Answer channel_bind(std::uint16_t number, const TransportAddress& peer) {
        return request(stun::Method::channel_bind, [&](stun::MessageBuilder& builder,
                                                       const stun::TransactionId&) {
            const std::array<std::byte, 4> value{
                static_cast<std::byte>(number >> 8), static_cast<std::byte>(number), {}, {}};
            builder.add(stun::attribute::channel_number, value);
            builder.add_xor_address(stun::attribute::xor_peer_address, peer);
        });
    }

    Answer refresh(std::optional<std::uint32_t> lifetime) {
        return request(stun::Method::refresh,
                       [&](stun::MessageBuilder& builder, const stun::TransactionId&) {
                           if (lifetime) {
                               builder.add_u32(stun::attribute::lifetime, *lifetime);
                           }
                       });
    }

    FakeAuthenticator authenticator_;
    FakeRelaySockets relay_sockets_;
    RecordingEvents events_;
    SharedLimits limits_;
    TurnServer server_;
    TurnServer* receiving_server_ = &server_;  // another worker's, in a test of two
    FakeClientLink link_;
    int transaction_counter_ = 0;
    stun::TransactionId last_transaction_{};
    std::optional<PeerSend> last_send_;
    TurnServer::StunOutcome last_outcome_;
};

}  // namespace hearth::turn::testing
