#pragma once

// A small JSON reader for hearthctl: enough to turn the admin API's answers into tables.
// Bounded depth; numbers as double; no heap beyond the values themselves.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hearth::admin {

struct JsonValue {
    using Array = std::vector<JsonValue>;
    using Object = std::map<std::string, JsonValue, std::less<>>;
    std::variant<std::nullptr_t, bool, double, std::string, Array, Object> data;

    const JsonValue* get(std::string_view key) const;  // null unless an object with `key`
    std::string text() const;                          // strings as is, numbers without ".0"
    const Array* array() const { return std::get_if<Array>(&data); }
};

std::optional<JsonValue> parse_json(std::string_view text);

}  // namespace hearth::admin
