// The config file as an operator writes it: libconfig syntax, then hearth's validation.

#include <cstdlib>
#include <string>

#include "fuzz_input.h"
#include "relay/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(hearth::fuzz::as_text(data, size));
    const auto result = hearth::config::load_config_text(text, "fuzz.conf");
    // Either a config or errors, never both and never neither.
    if (result.config.has_value() == !result.errors.empty()) {
        std::abort();
    }
    for (const auto& error : result.errors) {
        (void)error.to_string();
    }
    return 0;
}
