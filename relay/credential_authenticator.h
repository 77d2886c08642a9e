#pragma once

// The long-term credential mechanism (RFC 8489 §9.2) with TURN REST credentials and the
// session store: the bridge between the state machine and auth/.

#include <array>

#include "auth/nonce.h"
#include "auth/secret_ring.h"
#include "auth/session_store.h"
#include "relay/turn/authenticator.h"

namespace hearth::relay {

class CredentialAuthenticator final : public turn::Authenticator {
  public:
    CredentialAuthenticator(std::string realm, auth::SecretRing secrets,
                            std::array<std::byte, 32> nonce_key,
                            std::chrono::seconds nonce_lifetime, auth::SessionStore& sessions);

    std::string_view realm() const override { return realm_; }
    std::string issue_nonce(const IpAddress& client, std::int64_t now_unix) override;
    std::expected<turn::Credentials, turn::AuthFailure> authenticate(
        const stun::MessageView& request, const IpAddress& client, std::int64_t now_unix) override;
    turn::SessionRefusal admit_allocation(const turn::Owner& owner, std::int64_t now_unix) override;
    void release_allocation(const turn::Owner& owner) override;
    turn::SessionRefusal check_session(const turn::Owner& owner, std::int64_t now_unix) override;

  private:
    std::string realm_;
    auth::SecretRing secrets_;
    auth::NonceIssuer nonces_;
    auth::SessionStore& sessions_;
};

}  // namespace hearth::relay
