// The admin API's JSON answers as hearthctl reads them (nlohmann::json, through admin/json.h),
// and written back as hearthd writes them.

#include "admin/json.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parsed = hearth::admin::parse_json(hearth::fuzz::as_text(data, size));
    if (parsed) {
        (void)hearth::admin::json_field_text(*parsed, "id");
        (void)hearth::admin::json_text(*parsed);
    }
    return 0;
}
