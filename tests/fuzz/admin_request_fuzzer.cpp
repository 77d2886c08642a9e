// An admin API request target ("/v1/...?..."), split by evhttp as the server does, then
// routed and its query parameters and numbers read.

#include <event2/http.h>

#include <string>

#include "admin/admin_request.h"
#include "fuzz_input.h"

using namespace hearth::admin;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const Method method = data[0] % 3 == 0   ? Method::get
                          : data[0] % 3 == 1 ? Method::post
                                             : Method::other;
    const std::string target(hearth::fuzz::as_text(data + 1, size - 1));
    evhttp_uri* uri = evhttp_uri_parse_with_flags(target.c_str(), 0);
    if (uri == nullptr) {
        return 0;
    }
    const char* path = evhttp_uri_get_path(uri);
    const char* query = evhttp_uri_get_query(uri);
    (void)parse_admin_request(method, path != nullptr ? path : "/");
    if (query != nullptr) {
        for (const auto* name : {"session", "user", "ttl", "deadline", "name", "value"}) {
            const std::string value = query_parameter(query, name);
            (void)parse_decimal(value, 1, 86400);
        }
    }
    evhttp_uri_free(uri);
    return 0;
}
