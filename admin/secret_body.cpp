#include "admin/secret_body.h"

#include "admin/json.h"
#include "auth/credential.h"

namespace hearth::admin {

namespace {

// Long enough that guessing it is out of the question.
constexpr std::size_t min_secret_length = 16;

}  // namespace

std::variant<SecretToAdd, std::string> parse_secret_body(std::string_view body) {
    const auto parsed = parse_json(body);
    if (!parsed || !parsed->is_object()) {
        return std::string(R"(the body must be a JSON object {"name": "...", "value": "..."})");
    }
    const Json& json = *parsed;
    const auto name = json.find("name");
    const auto value = json.find("value");
    if (name == json.end() || !name->is_string() || value == json.end() || !value->is_string()) {
        return std::string(R"("name" and "value" must both be strings)");
    }
    SecretToAdd secret{name->get<std::string>(), value->get<std::string>()};
    // Names are listed in the node registry separated by spaces, shown in logs and put in
    // URLs (retire): the characters of a session id.
    if (!auth::is_valid_id(secret.name)) {
        return std::string("the name must be 1 to 128 of [A-Za-z0-9._@-]");
    }
    if (secret.value.size() < min_secret_length) {
        return std::string("the value must be 16 characters or more");
    }
    return secret;
}

}  // namespace hearth::admin
