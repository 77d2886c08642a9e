#pragma once

// What the admin API answers a request with, and the one shape of its errors.

#include <functional>
#include <string>
#include <string_view>

#include "admin/json.h"

struct evhttp_request;

namespace hearth::admin {

// What runs once an answer has been written out to its connection (never when the client
// went away first): a drain that stops hearthd at once answers before it does so.
// libevent calls `run` with the request and `context`.
struct AfterSent {
    void (*run)(evhttp_request* request, void* context) = nullptr;
    void* context = nullptr;
};

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};
using Respond = std::function<void(Reply)>;
using RespondThen = std::function<void(Reply, AfterSent)>;

// {"error": message}, the body of every refusal (README, "Admin API").
Reply error_reply(int status, std::string_view message);

// `body` as an application/json answer.
Reply json_reply(int status, const Json& body);

}  // namespace hearth::admin
