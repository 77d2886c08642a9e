#pragma once

// Test doubles for a TurnServer's collaborators, shared by the unit tests and the fuzzer.

#include <optional>
#include <string>
#include <vector>

#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"
#include "relay/stun/nonce_cookie.h"
#include "relay/turn/long_term_credentials.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn::testing {

inline stun::Bytes as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// Runs the real long-term credential check (long_term_credentials.h) over a fake source:
// any username "<session>:<user>" has the password "pw"; a nonce is valid unless it is
// "stale", and offers the features its cookie names (none without one). The fuzzer sets
// `trust_any_integrity` to get past the HMAC without knowing the key; the rest of the
// check still runs.
class FakeAuthenticator final : public Authenticator, public CredentialSource {
  public:
    std::string_view realm() const override { return realm_value; }
    std::string issue_nonce(const IpAddress&, std::int64_t,
                            stun::SecurityFeatures features) override {
        nonce_features.push_back(features);
        return nonce_value;
    }
    std::expected<Credentials, AuthFailure> authenticate(const stun::MessageView& request,
                                                         const IpAddress& client, std::int64_t now,
                                                         std::string_view allocation) override {
        ++authentications;
        if (next_failure) {
            return std::unexpected(*next_failure);
        }
        std::vector<std::string_view> candidates(userhash_candidates.begin(),
                                                 userhash_candidates.end());
        if (!allocation.empty()) {
            candidates.push_back(allocation);
        }
        auto checked =
            check_long_term_credentials(request, {realm_value, client, now, candidates}, *this);
        if (trust_any_integrity && !checked && checked.error() == AuthFailure::bad_integrity) {
            return trusted(request);
        }
        return checked;
    }
    std::optional<stun::SecurityFeatures> valid_nonce(std::string_view nonce, const IpAddress&,
                                                      std::int64_t) override {
        if (nonce == "stale" || (only_valid_nonce && nonce != *only_valid_nonce)) {
            return std::nullopt;
        }
        return stun::read_nonce_cookie(nonce).value_or(stun::SecurityFeatures{});
    }
    std::expected<Owner, AuthFailure> owner_of(std::string_view username, std::int64_t) override {
        const auto colon = username.find(':');
        return Owner{std::string(username), std::string(username.substr(0, colon)),
                     std::string(username.substr(colon + 1)), 0};
    }
    std::vector<std::string> passwords_of(std::string_view) override { return {password}; }

    SessionRefusal admit_allocation(const Owner&, std::int64_t,
                                    PastSessionCap past_the_cap) override {
        ++admitted;
        admissions_asked.push_back(past_the_cap);
        return next_admission;
    }
    void release_allocation(const Owner&) override { ++released; }
    SessionRefusal check_session(const Owner&, std::int64_t) override { return next_check; }

    bool trust_any_integrity = false;
    std::optional<AuthFailure> next_failure;  // every request fails so, when set
    std::string realm_value = "hearth";
    std::string nonce_value = "fresh-nonce";
    std::optional<std::string> only_valid_nonce;  // when set, every other nonce is stale
    std::string password = "pw";
    std::vector<std::string> userhash_candidates;        // besides the 5-tuple's allocation's
    std::vector<stun::SecurityFeatures> nonce_features;  // what each nonce issued offered
    SessionRefusal next_admission = SessionRefusal::none;
    SessionRefusal next_check = SessionRefusal::none;
    int admitted = 0;
    std::vector<PastSessionCap> admissions_asked;  // each admit_allocation's past_the_cap
    int released = 0;
    int authentications = 0;  // calls to authenticate()

  private:
    // The fuzzer's way past the HMAC: a request the check refused for its integrity alone
    // is taken for one signed with the MD5 key of its USERNAME.
    std::expected<Credentials, AuthFailure> trusted(const stun::MessageView& request) {
        const auto value = request.find(stun::attribute::username);
        const auto username = value ? stun::decode_username(*value) : std::nullopt;
        if (!username) {
            return std::unexpected(AuthFailure::bad_integrity);
        }
        return Credentials{*owner_of(*username, 0),
                           stun::long_term_key(stun::PasswordAlgorithm::md5,
                                               stun::IntegrityAttribute::message_integrity,
                                               *username, realm_value, password)};
    }
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
        refused_owners.push_back(refused.owner != nullptr
                                     ? refused.owner->session_id + "/" + refused.owner->user_id
                                     : "");
    }
    void peer_refused(const Allocation&, const IpAddress&, PeerRefusal) override {
        ++peer_refusals;
    }
    void username_banned(const IpAddress&, std::string_view username, Seconds) override {
        banned_usernames.emplace_back(username);
    }
    void source_throttled(const IpAddress&, Seconds) override { ++throttles; }
    void permission_first_used(const Allocation&, const TransportAddress& peer,
                               Direction direction) override {
        permissions_first_used.emplace_back(peer, direction);
    }
    void channel_first_used(const Allocation&, const ChannelBinding& channel,
                            Direction direction) override {
        channels_first_used.emplace_back(channel.number, direction);
    }
    std::vector<std::string> banned_usernames;
    int throttles = 0;
    // "session/user" of each refusal's credential, "" when it was not valid.
    std::vector<std::string> refused_owners;
    std::vector<std::pair<TransportAddress, Direction>> permissions_first_used;
    std::vector<std::pair<std::uint16_t, Direction>> channels_first_used;
    int created = 0;
    int refreshed = 0;
    std::vector<DeleteReason> deleted;
    std::vector<std::pair<int, std::string>> refusals;
    int peer_refusals = 0;
};

}  // namespace hearth::turn::testing
