#include "relay/turn/long_term_credentials.h"

#include <algorithm>
#include <array>

#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"
#include "relay/stun/password_algorithm.h"

namespace hearth::turn {

namespace attribute = stun::attribute;
using stun::IntegrityAttribute;
using stun::PasswordAlgorithm;

namespace {

constexpr std::size_t userhash_size = 32;  // RFC 8489 §14.4

// A request's credentials as it names them, read before anything is checked.
struct CredentialAttributes {
    std::optional<std::string_view> username;
    stun::Bytes userhash;  // when there is no USERNAME
    std::string_view realm;
    std::string_view nonce;
};

// RFC 8489 §9.2.4: no integrity attribute is the first request (401); one without
// USERNAME or USERHASH, REALM or NONCE is malformed (400). With both USERNAME and
// USERHASH, the username is the one named in clear.
std::expected<CredentialAttributes, AuthFailure> read_attributes(const stun::MessageView& request) {
    if (!request.has(attribute::message_integrity) &&
        !request.has(attribute::message_integrity_sha256)) {
        return std::unexpected(AuthFailure::missing_integrity);
    }
    const auto username = request.find(attribute::username);
    const auto userhash = request.find(attribute::userhash);
    const auto realm = request.find(attribute::realm);
    const auto nonce = request.find(attribute::nonce);
    if ((!username && !userhash) || !realm || !nonce) {
        return std::unexpected(AuthFailure::missing_attributes);
    }
    CredentialAttributes read;
    if (username) {
        read.username = stun::decode_username(*username);
    } else if (userhash->size() == userhash_size) {
        read.userhash = *userhash;
    }
    const auto realm_text = stun::decode_realm(*realm);
    const auto nonce_text = stun::decode_nonce(*nonce);
    if ((username && !read.username) || (!username && read.userhash.empty()) || !realm_text ||
        !nonce_text) {
        return std::unexpected(AuthFailure::missing_attributes);
    }
    read.realm = *realm_text;
    read.nonce = *nonce_text;
    return read;
}

// How the key is derived, and which integrity attribute answers carry.
struct Negotiated {
    PasswordAlgorithm algorithm;
    IntegrityAttribute answers;
};

// RFC 8489 §9.2.4, and the bid-down attack of §9.2.1. A request with neither
// PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM is an RFC 5389 client's (every browser's),
// or one that ignored the cookie: MD5, and MESSAGE-INTEGRITY in the answers. Otherwise,
// when its nonce offered password algorithms, both must be there, PASSWORD-ALGORITHMS
// exactly the list the 401 sent and PASSWORD-ALGORITHM one of its entries: an attacker who
// rewrote the 401's list cannot rewrite the nonce (its MAC covers the features), so the
// list the client echoes gives it away. Answers then carry MESSAGE-INTEGRITY-SHA256.
std::expected<Negotiated, AuthFailure> negotiate(const stun::MessageView& request,
                                                 stun::SecurityFeatures features) {
    const auto algorithm_value = request.find(attribute::password_algorithm);
    const auto algorithms_value = request.find(attribute::password_algorithms);
    if (!algorithm_value && !algorithms_value) {
        return Negotiated{PasswordAlgorithm::md5, IntegrityAttribute::message_integrity};
    }
    const auto entry =
        algorithm_value ? stun::decode_password_algorithm(*algorithm_value) : std::nullopt;
    if (features.password_algorithms &&
        (!entry || !algorithms_value ||
         !std::ranges::equal(*algorithms_value, offered_password_algorithms()) ||
         !stun::password_algorithms_contain(*algorithms_value, *entry))) {
        return std::unexpected(AuthFailure::bid_down);
    }
    const auto algorithm = entry ? stun::known_password_algorithm(*entry) : PasswordAlgorithm::md5;
    if (!algorithm) {
        return std::unexpected(AuthFailure::bid_down);  // an algorithm hearth never offered
    }
    return Negotiated{*algorithm, IntegrityAttribute::message_integrity_sha256};
}

// The username a request names: USERNAME, or the candidate whose USERHASH it carries.
std::optional<std::string_view> username_of(const CredentialAttributes& read,
                                            const CredentialCheck& check) {
    if (read.username) {
        return read.username;
    }
    for (const std::string_view candidate : check.userhash_candidates) {
        if (std::ranges::equal(stun::userhash(candidate, check.realm), read.userhash)) {
            return candidate;
        }
    }
    return std::nullopt;
}

}  // namespace

stun::Bytes offered_password_algorithms() {
    static constexpr std::array<std::byte, 8> offered{
        std::byte{0x00}, std::byte{0x02}, std::byte{0x00}, std::byte{0x00},   // SHA-256
        std::byte{0x00}, std::byte{0x01}, std::byte{0x00}, std::byte{0x00}};  // MD5
    return offered;
}

std::expected<Credentials, AuthFailure> check_long_term_credentials(
    const stun::MessageView& request, const CredentialCheck& check, CredentialSource& source) {
    const auto read = read_attributes(request);
    if (!read) {
        return std::unexpected(read.error());
    }
    if (read->realm != check.realm) {
        return std::unexpected(AuthFailure::wrong_realm);
    }
    // A nonce we did not issue, or one that ran out, is stale: the client retries with the
    // fresh one in the 438. Checked first, as its features say what the algorithm must be.
    const auto features = source.valid_nonce(read->nonce, check.client, check.now_unix);
    if (!features) {
        return std::unexpected(AuthFailure::stale_nonce);
    }
    const auto negotiated = negotiate(request, *features);
    if (!negotiated) {
        return std::unexpected(negotiated.error());
    }
    const auto username = username_of(*read, check);
    if (!username) {
        return std::unexpected(AuthFailure::unknown_userhash);
    }
    auto owner = source.owner_of(*username, check.now_unix);
    if (!owner) {
        return std::unexpected(owner.error());
    }
    for (const auto& password : source.passwords_of(*username)) {
        const auto key = stun::long_term_key(negotiated->algorithm, negotiated->answers, *username,
                                             check.realm, password);
        if (stun::verify_request_integrity(request, key.bytes())) {
            return Credentials{std::move(*owner), key};
        }
    }
    return std::unexpected(AuthFailure::bad_integrity);
}

}  // namespace hearth::turn
