#include "relay/credential_authenticator.h"

#include "auth/credential.h"
#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"

namespace hearth::relay {

namespace attribute = stun::attribute;

namespace {

turn::SessionRefusal refusal_of(auth::SessionVerdict verdict) {
    switch (verdict) {
        case auth::SessionVerdict::allowed:
            return turn::SessionRefusal::none;
        case auth::SessionVerdict::unknown_session:
            return turn::SessionRefusal::unknown_session;
        case auth::SessionVerdict::not_active:
            return turn::SessionRefusal::not_active;
        case auth::SessionVerdict::outside_window:
            return turn::SessionRefusal::outside_window;
        case auth::SessionVerdict::not_participant:
            return turn::SessionRefusal::not_participant;
        case auth::SessionVerdict::cap_reached:
            return turn::SessionRefusal::cap_reached;
        case auth::SessionVerdict::store_unavailable:
            return turn::SessionRefusal::store_unavailable;
    }
    return turn::SessionRefusal::store_unavailable;
}

}  // namespace

CredentialAuthenticator::CredentialAuthenticator(std::string realm, auth::SecretRing secrets,
                                                 std::array<std::byte, 32> nonce_key,
                                                 std::chrono::seconds nonce_lifetime,
                                                 auth::SessionStore& sessions)
    : realm_(std::move(realm)),
      secrets_(std::move(secrets)),
      nonces_(nonce_key, nonce_lifetime),
      sessions_(sessions) {}

std::string CredentialAuthenticator::issue_nonce(const IpAddress& client, std::int64_t now_unix) {
    return nonces_.issue(client, now_unix);
}

std::expected<turn::Credentials, turn::AuthFailure> CredentialAuthenticator::authenticate(
    const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix) {
    using turn::AuthFailure;
    if (!request.has(attribute::message_integrity)) {
        return std::unexpected(AuthFailure::missing_integrity);
    }
    const auto username_value = request.find(attribute::username);
    const auto realm_value = request.find(attribute::realm);
    const auto nonce_value = request.find(attribute::nonce);
    if (!username_value || !realm_value || !nonce_value) {
        return std::unexpected(AuthFailure::missing_attributes);
    }
    const auto username = stun::decode_username(*username_value);
    const auto realm = stun::decode_realm(*realm_value);
    const auto nonce = stun::decode_nonce(*nonce_value);
    if (!username || !realm || !nonce) {
        return std::unexpected(AuthFailure::missing_attributes);
    }
    if (*realm != realm_) {
        return std::unexpected(AuthFailure::wrong_realm);
    }
    // RFC 8489 §9.2.4: a nonce we did not issue, or one that ran out, is stale: the
    // client retries with the fresh one in the 438.
    if (nonces_.check(*nonce, client, now_unix) != auth::NonceCheck::valid) {
        return std::unexpected(AuthFailure::stale_nonce);
    }
    const auto parsed = auth::parse_username(*username);
    if (!parsed) {
        return std::unexpected(AuthFailure::malformed_username);
    }
    if (parsed->expiry_unix < now_unix) {
        return std::unexpected(AuthFailure::expired_username);
    }
    for (const auto& secret : secrets_.active()) {
        const std::string password = auth::mint_password(secret.value, *username);
        const auto key = stun::long_term_key_md5(*username, *realm, password);
        if (stun::verify_message_integrity(request, key)) {
            turn::Credentials credentials;
            credentials.owner.username = std::string(*username);
            credentials.owner.session_id = std::string(parsed->session_id);
            credentials.owner.user_id = std::string(parsed->user_id);
            credentials.owner.credential_expiry_unix = parsed->expiry_unix;
            credentials.key = key;
            return credentials;
        }
    }
    return std::unexpected(AuthFailure::bad_integrity);
}

turn::SessionRefusal CredentialAuthenticator::admit_allocation(const turn::Owner& owner,
                                                               std::int64_t now_unix) {
    // The embedded store answers at once. A store that answers later (Redis) is not
    // wired yet: until then an unanswered check fails closed.
    auto verdict = auth::SessionVerdict::store_unavailable;
    sessions_.reserve_allocation(owner.session_id, owner.user_id, now_unix,
                                 [&verdict](auth::SessionVerdict answer) { verdict = answer; });
    return refusal_of(verdict);
}

void CredentialAuthenticator::release_allocation(const turn::Owner& owner) {
    sessions_.release_allocation(owner.session_id, owner.user_id);
}

turn::SessionRefusal CredentialAuthenticator::check_session(const turn::Owner& owner,
                                                            std::int64_t now_unix) {
    auto verdict = auth::SessionVerdict::store_unavailable;
    sessions_.check_session(owner.session_id, owner.user_id, now_unix,
                            [&verdict](auth::SessionVerdict answer) { verdict = answer; });
    return refusal_of(verdict);
}

}  // namespace hearth::relay
