#include "auth/secret_ring.h"

#include <algorithm>

namespace hearth::auth {

void SecretRing::add(NamedSecret secret) {
    retire(secret.name);
    secrets_.push_back(std::move(secret));
}

bool SecretRing::retire(std::string_view name) {
    const auto found =
        std::find_if(secrets_.begin(), secrets_.end(),
                     [name](const NamedSecret& secret) { return secret.name == name; });
    if (found == secrets_.end()) {
        return false;
    }
    secrets_.erase(found);
    return true;
}

const NamedSecret* SecretRing::newest() const {
    return secrets_.empty() ? nullptr : &secrets_.back();
}

}  // namespace hearth::auth
