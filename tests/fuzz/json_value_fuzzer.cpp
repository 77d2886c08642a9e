// The admin API's JSON answers as hearthctl reads them.

#include "admin/json_value.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)hearth::admin::parse_json(hearth::fuzz::as_text(data, size));
    return 0;
}
