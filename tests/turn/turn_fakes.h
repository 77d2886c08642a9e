#pragma once

// Test doubles for a TurnServer's collaborators, shared by the unit tests and the fuzzer.

#include <optional>
#include <string>
#include <vector>

#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn::testing {

inline stun::Bytes as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// Accepts any username "<session>:<user>" whose MESSAGE-INTEGRITY verifies with the key
// of password "pw" (or any integrity at all, for the fuzzer); the nonce "stale" is stale.
class FakeAuthenticator final : public Authenticator {
  public:
    std::string_view realm() const override { return realm_value; }
    std::string issue_nonce(const IpAddress&, std::int64_t) override { return nonce_value; }
    std::expected<Credentials, AuthFailure> authenticate(const stun::MessageView& request,
                                                         const IpAddress&, std::int64_t) override {
        if (next_failure) {
            return std::unexpected(*next_failure);
        }
        const auto username_value = request.find(stun::attribute::username);
        const auto nonce_value = request.find(stun::attribute::nonce);
        if (!request.has(stun::attribute::message_integrity) || !username_value || !nonce_value) {
            return std::unexpected(AuthFailure::missing_integrity);
        }
        const auto username = stun::decode_username(*username_value);
        const auto nonce = stun::decode_nonce(*nonce_value);
        if (!username || !nonce) {
            return std::unexpected(AuthFailure::bad_integrity);
        }
        if (*nonce == "stale") {
            return std::unexpected(AuthFailure::stale_nonce);
        }
        const auto key = stun::long_term_key_md5(*username, "hearth", "pw");
        if (!trust_any_integrity && !stun::verify_message_integrity(request, key)) {
            return std::unexpected(AuthFailure::bad_integrity);
        }
        Credentials credentials;
        const auto colon = username->find(':');
        credentials.owner = Owner{std::string(*username), std::string(username->substr(0, colon)),
                                  std::string(username->substr(colon + 1)), 0};
        credentials.key = key;
        return credentials;
    }
    SessionRefusal admit_allocation(const Owner&, std::int64_t) override {
        ++admitted;
        return next_admission;
    }
    void release_allocation(const Owner&) override { ++released; }
    SessionRefusal check_session(const Owner&, std::int64_t) override { return next_check; }

    bool trust_any_integrity = false;
    std::optional<AuthFailure> next_failure;  // every request fails so, when set
    std::string realm_value = "hearth";
    std::string nonce_value = "fresh-nonce";
    SessionRefusal next_admission = SessionRefusal::none;
    SessionRefusal next_check = SessionRefusal::none;
    int admitted = 0;
    int released = 0;
};

class FakeRelaySockets final : public RelaySockets {
  public:
    std::optional<RelayEndpoint> open(AddressFamily family, bool, Allocation&) override {
        if (!family_available(family) || fail_next) {
            return std::nullopt;
        }
        ++open_count;
        const auto ip = family == AddressFamily::ipv4 ? *IpAddress::parse("203.0.113.5")
                                                      : *IpAddress::parse("2001:db8::5");
        return RelayEndpoint{TransportAddress{ip, next_port++}, nullptr};
    }
    bool family_available(AddressFamily family) const override {
        return family == AddressFamily::ipv4 || ipv6_available;
    }
    void close(RelayEndpoint&) override { ++close_count; }

    bool ipv6_available = false;
    bool fail_next = false;
    std::uint16_t next_port = 50000;
    int open_count = 0;
    int close_count = 0;
};

// A client link that keeps what was sent to the client.
class FakeClientLink final : public ClientLink {
  public:
    bool send_to_client(const TransportAddress&, stun::Bytes message) override {
        sent.emplace_back(message.begin(), message.end());
        return true;
    }
    bool is_stream() const override { return stream; }
    bool stream = false;
    std::vector<std::vector<std::byte>> sent;
};

class RecordingEvents final : public AllocationEvents {
  public:
    void allocation_created(const Allocation&) override { ++created; }
    void allocation_refreshed(const Allocation&, Seconds) override { ++refreshed; }
    void allocation_deleted(const Allocation&, DeleteReason reason) override {
        deleted.push_back(reason);
    }
    void request_refused(const RefusedRequest& refused) override {
        refusals.emplace_back(code_of(refused.error), std::string(refused.why));
        refused_owners.push_back(refused.owner != nullptr ? refused.owner->session_id + "/" +
                                                                refused.owner->user_id
                                                          : "");
    }
    void peer_refused(const Allocation&, const IpAddress&, PeerRefusal) override {
        ++peer_refusals;
    }
    void source_banned(const IpAddress&, Seconds) override { ++bans; }
    void permission_first_used(const Allocation&, const TransportAddress& peer,
                               Direction direction) override {
        permissions_first_used.emplace_back(peer, direction);
    }
    void channel_first_used(const Allocation&, const ChannelBinding& channel,
                            Direction direction) override {
        channels_first_used.emplace_back(channel.number, direction);
    }
    // "session/user" of each refusal's credential, "" when it was not valid.
    std::vector<std::string> refused_owners;
    std::vector<std::pair<TransportAddress, Direction>> permissions_first_used;
    std::vector<std::pair<std::uint16_t, Direction>> channels_first_used;
    int bans = 0;
    int created = 0;
    int refreshed = 0;
    std::vector<DeleteReason> deleted;
    std::vector<std::pair<int, std::string>> refusals;
    int peer_refusals = 0;
};

}  // namespace hearth::turn::testing
