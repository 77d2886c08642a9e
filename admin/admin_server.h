#pragma once

// The admin API (DESIGN.md): libevent's evhttp on the main thread's loop, loopback by
// default, every request behind a bearer token. What each request is answered with is in
// admin/routes/, by the table in route_table.cpp.

#include <event2/http.h>

#include <string>

#include "admin/admin_connections.h"
#include "admin/history_sampler.h"
#include "relay/daemon/daemon.h"

namespace hearth::admin {

class AdminServer {
  public:
    AdminServer(relay::DaemonControl& control, std::string token, AdminConnections::Limits limits);
    // Reload: every request from now on must carry `token` (the old one is refused).
    void set_token(std::string token) { token_ = std::move(token); }
    // Start and reload: a token that may call only what reads (routes/route_table.h,
    // Access::read), for Prometheus and dashboards; "" = none.
    void set_read_only_token(std::string token) { read_only_token_ = std::move(token); }
    // Reload: the connection cap and the request deadline, for new connections.
    void set_limits(AdminConnections::Limits limits);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    bool listen(const TransportAddress& address, std::string& error);

  private:
    static void on_request(evhttp_request* request, void* context);

    relay::DaemonControl& control_;
    std::string token_;
    std::string read_only_token_;
    AdminConnections connections_;
    HistorySampler history_;
    evhttp* http_ = nullptr;
};

}  // namespace hearth::admin
