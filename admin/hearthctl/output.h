#pragma once

// How hearthctl prints the node's answers: tables for people, the JSON as is with --json.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/hearthctl/http_client.h"
#include "admin/hearthctl/options.h"
#include "admin/json.h"

namespace hearth::hearthctl {

using admin::Json;

// `key` of a JSON object as text; "" when it is absent.
std::string field(const Json& value, std::string_view key);

// Member `key` of `value`, or null when `value` is null, not an object, or has no `key`.
const Json* member(const Json* value, std::string_view key);

// The elements of `list`: none when it is null or not an array.
const Json& elements(const Json* list);

// Member `key` as a number; 0 when it is absent or not a number.
double number(const Json* value, std::string_view key);

// The answer's body as JSON; exits with exit_unreadable_answer when it is not JSON.
Json json_of(const Response& response);

// Prints `rows` under `header`, columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// How a command ends: a refusal prints the node's error and gives exit_refused; an
// answer is printed as JSON with --json, by `print` otherwise, and gives exit_done; one that
// is not JSON gives exit_no_answer.
int finish(const Options& options, const Response& response,
           const std::function<void(const Json&)>& print);

}  // namespace hearth::hearthctl
