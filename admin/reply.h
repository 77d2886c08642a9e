#pragma once

// What the admin API answers a request with, and the one shape of its errors.

#include <functional>
#include <string>
#include <string_view>

namespace hearth::admin {

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};
using Respond = std::function<void(Reply)>;

// {"error": message}, the body of every refusal (README, "Admin API").
Reply error_reply(int status, std::string_view message);

}  // namespace hearth::admin
