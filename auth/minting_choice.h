#pragma once

// Which secret a node mints credentials with when several nodes share the secrets held in
// Redis. A credential is good only where every node accepts it, so a secret just added is
// used once every live node reports holding it; until then the newest one every node
// holds is (README "Redis schema").

#include <span>
#include <string>
#include <vector>

#include "auth/secret_ring.h"

namespace hearth::auth {

// What one live node reports holding: the names of its secrets.
using SecretReport = std::vector<std::string>;

struct MintingChoice {
    const NamedSecret* secret = nullptr;  // null only for an empty ring
    // A newer secret of the ring waits for these nodes (by their index in the reports).
    std::vector<std::size_t> waiting_for;
    // No secret of the ring is held by every node: `secret` is the newest, which some nodes
    // refuse.
    bool none_held_by_all = false;
};

// `ring` is this node's (newest last); `others` are the reports of the other live nodes.
MintingChoice choose_minting_secret(const SecretRing& ring, std::span<const SecretReport> others);

// A report as written in the node registry (names separated by spaces) and read back.
std::string report_text(const SecretRing& ring);
SecretReport parse_report(std::string_view text);

}  // namespace hearth::auth
