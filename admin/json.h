#pragma once

// JSON for the admin API and hearthctl, with nlohmann::json: members kept in the order they
// are written (the order the README documents), UTF-8 text passed through, \u escapes read
// into UTF-8, and NaN or infinity written as null (RFC 8259 §6 has no number for them).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::admin {

using Json = nlohmann::ordered_json;

// `json` as compact text. Bytes that are not UTF-8 (a name a client sent) become U+FFFD
// instead of throwing.
std::string json_text(const Json& json);

// `text` as JSON, or nullopt when it is not JSON.
std::optional<Json> parse_json(std::string_view text);

// A member of an object as one line of text: strings as they are, whole numbers without a
// fraction, others with two decimals, true/false; "" when absent, null or not an object.
std::string json_field_text(const Json& object, std::string_view key);
std::string json_scalar_text(const Json& value);

}  // namespace hearth::admin
