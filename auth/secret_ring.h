#pragma once

// The shared secrets credentials are minted with. Several live at once so a secret can be
// rotated: minting uses the newest, checking accepts every one not yet retired.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::auth {

struct NamedSecret {
    std::string name;  // shown in logs and by hearthctl; the value never is
    std::string value;
    bool operator==(const NamedSecret&) const = default;
};

// What adding or retiring a secret held in Redis came to.
enum class SecretChange : std::uint8_t {
    done,       // added (or already there with the same value), or retired
    conflict,   // add: the name holds another value; retire: no such secret
    no_answer,  // Redis did not answer
    no_store,   // the node does not use Redis
};

class SecretRing {
  public:
    void add(NamedSecret secret);  // newest last; a secret of the same name is replaced
    bool retire(std::string_view name);
    const NamedSecret* newest() const;
    std::span<const NamedSecret> active() const { return secrets_; }
    bool empty() const { return secrets_.empty(); }

  private:
    std::vector<NamedSecret> secrets_;
};

}  // namespace hearth::auth
