#pragma once

// hearthctl's side of the admin API, with libcurl: one request per call, bearer token,
// http or https, host names resolved, the answer read to its end.

#include <string>

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

struct Response {
    int status = 0;
    std::string body;
};

// Sends `method target` to options.admin with options.token, and `json_body` as an
// application/json body when not empty. Exits with exit_bad_usage when the
// address is not one parse_admin_address takes, and with exit_no_answer when the node
// cannot be reached, refuses the token, or answers something that is not HTTP.
Response ask_node(const Options& options, const std::string& method, const std::string& target,
                  const std::string& json_body = "");

// Percent-encodes `text` for a query value or a path segment.
std::string url_encode(const std::string& text);

}  // namespace hearth::hearthctl
