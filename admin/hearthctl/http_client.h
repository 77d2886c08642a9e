#pragma once

// hearthctl's side of the admin API: one HTTP/1.0 request per connection, bearer token,
// answer read to the end.

#include <string>

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

struct Response {
    int status = 0;
    std::string body;
};

// Sends `method target` to options.admin with options.token, and `form` as an
// application/x-www-form-urlencoded body when not empty. Exits with exit_bad_usage when the
// address is not HOST:PORT, and with exit_node_unreachable when the node cannot be
// reached, answers something that is not HTTP, or refuses the token.
Response ask_node(const Options& options, const std::string& method, const std::string& target,
                  const std::string& form = "");

// Percent-encodes `text` for a query value or a path segment.
std::string url_encode(const std::string& text);

}  // namespace hearth::hearthctl
