#pragma once

// The body of POST /v1/secrets: {"name": "...", "value": "..."} (application/json). A
// secret's value travels in a request body, never in a URL, which access logs, proxies
// and shell history keep.

#include <string>
#include <string_view>
#include <variant>

namespace hearth::admin {

struct SecretToAdd {
    std::string name;
    std::string value;
};

// The secret, or why the body is refused (a sentence for the 400 answer; it never
// repeats the value).
std::variant<SecretToAdd, std::string> parse_secret_body(std::string_view body);

}  // namespace hearth::admin
