#pragma once

// How hearthctl prints the node's answers: tables for people, the JSON as is with --json.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/hearthctl/http_client.h"
#include "admin/hearthctl/options.h"
#include "admin/json_value.h"

namespace hearth::hearthctl {

using admin::JsonValue;

// `key` of a JSON object as text; "" when it is absent.
std::string field(const JsonValue& value, std::string_view key);

// The answer's body as JSON; exits with exit_node_unreachable when it is not JSON.
JsonValue json_of(const Response& response);

// Prints `rows` under `header`, columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

// How a command ends: a refusal prints the node's error and gives exit_refused; an
// answer is printed as JSON with --json, by `print` otherwise, and gives exit_done.
int finish(const Options& options, const Response& response,
           const std::function<void(const JsonValue&)>& print);

}  // namespace hearth::hearthctl
