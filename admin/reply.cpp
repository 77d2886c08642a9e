#include "admin/reply.h"

#include "admin/json.h"

namespace hearth::admin {

Reply error_reply(int status, std::string_view message) {
    return json_reply(status, Json{{"error", message}});
}

Reply json_reply(int status, const Json& body) {
    return {status, "application/json", json_text(body)};
}

}  // namespace hearth::admin
