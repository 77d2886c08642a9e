// The REST-API username "<expiry>:<session>:<user>" as a client sends it.

#include <cstdlib>

#include "auth/credential.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view username = hearth::fuzz::as_text(data, size);
    const auto parsed = hearth::auth::parse_username(username);
    if (!parsed) {
        (void)hearth::auth::to_string(parsed.error());
        return 0;
    }
    // What is accepted is what hearth could have minted: ids valid, and printing the parts
    // back gives the same username.
    if (!hearth::auth::is_valid_id(parsed->session_id) ||
        !hearth::auth::is_valid_id(parsed->user_id)) {
        std::abort();
    }
    (void)hearth::auth::make_username(parsed->expiry_unix, parsed->session_id, parsed->user_id);
    return 0;
}
