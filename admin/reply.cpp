#include "admin/reply.h"

#include "admin/json_writer.h"

namespace hearth::admin {

Reply error_reply(int status, std::string_view message) {
    JsonWriter json;
    json.begin_object().field("error", message).end_object();
    return {status, "application/json", json.take()};
}

}  // namespace hearth::admin
