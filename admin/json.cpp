#include "admin/json.h"

#include <cmath>
#include <cstdio>

namespace hearth::admin {

std::string json_text(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<Json> parse_json(std::string_view text) {
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded()) {
        return std::nullopt;
    }
    return parsed;
}

std::string json_scalar_text(const Json& value) {
    if (value.is_string()) {
        return value.get<std::string>();
    }
    if (value.is_boolean()) {
        return value.get<bool>() ? "true" : "false";
    }
    if (value.is_number_integer()) {
        return value.dump();
    }
    if (value.is_number_float()) {
        const double number = value.get<double>();
        char buffer[32];
        std::snprintf(buffer, sizeof buffer,
                      std::floor(number) == number && std::fabs(number) < 1e15 ? "%.0f" : "%.2f",
                      number);
        return buffer;
    }
    return "";
}

std::string json_field_text(const Json& object, std::string_view key) {
    if (!object.is_object()) {
        return "";
    }
    const auto found = object.find(key);
    return found == object.end() ? "" : json_scalar_text(*found);
}

}  // namespace hearth::admin
