#pragma once

// The server's side of the long-term credential mechanism (RFC 8489 §9.2.4), apart from
// where nonces and passwords come from: the attributes a request must carry, the password
// algorithm it may use (the bid-down check of §9.2.1), the username behind a USERHASH, the
// key (§9.2.2) and the integrity attributes it is checked with. An Authenticator runs it
// with its own CredentialSource (relay/net/credential_authenticator.cpp: TURN REST
// credentials and stateless nonces).

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relay/stun/message.h"
#include "relay/stun/nonce_cookie.h"
#include "relay/stun/transport_address.h"
#include "relay/turn/authenticator.h"

namespace hearth::turn {

// The PASSWORD-ALGORITHMS value of every 401 and 438, in hearth's order of preference
// (RFC 8489 §9.2.4): SHA-256, then MD5.
stun::Bytes offered_password_algorithms();

// What the check cannot read from the request.
class CredentialSource {
  public:
    virtual ~CredentialSource() = default;
    // The features `nonce` was issued with if this server issued it to `client` and it has
    // not expired; nullopt otherwise (438).
    virtual std::optional<stun::SecurityFeatures> valid_nonce(std::string_view nonce,
                                                              const IpAddress& client,
                                                              std::int64_t now_unix) = 0;
    // Who `username` is, if it may authenticate now; else why not.
    virtual std::expected<Owner, AuthFailure> owner_of(std::string_view username,
                                                       std::int64_t now_unix) = 0;
    // The passwords `username` may have (one per secret that may have minted it).
    virtual std::vector<std::string> passwords_of(std::string_view username) = 0;
};

struct CredentialCheck {
    std::string_view realm;
    const IpAddress& client;
    std::int64_t now_unix = 0;
    // The usernames a USERHASH may stand for (RFC 8489 §14.4): the server must know the
    // username to derive the key, and cannot list the TURN REST usernames it would accept.
    std::span<const std::string_view> userhash_candidates;
};

// RFC 8489 §9.2.4 in hearth's order (AuthFailure: the nonce before the algorithm, the
// username and the password).
std::expected<Credentials, AuthFailure> check_long_term_credentials(
    const stun::MessageView& request, const CredentialCheck& check, CredentialSource& source);

}  // namespace hearth::turn
