#pragma once

// The admin API (DESIGN.md): libevent's evhttp on the main thread's loop, loopback by
// default, every request behind a bearer token. Routes are in admin_routes.cpp.

#include <event2/http.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_request.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin {

struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};
using Respond = std::function<void(Reply)>;

class AdminServer {
  public:
    AdminServer(relay::DaemonControl& control, std::string token);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    bool listen(const TransportAddress& address, std::string& error);

  private:
    static void on_request(evhttp_request* request, void* context);
    void route(const AdminRequest& request, std::string_view query, Respond respond);

    relay::DaemonControl& control_;
    std::string token_;
    evhttp* http_ = nullptr;
};

}  // namespace hearth::admin
