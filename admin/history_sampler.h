#pragma once

// Fills a NodeHistory (node_history.h) every NodeHistory::interval_ms from the workers'
// snapshots, on the control loop's timer: the workers copy their state when asked, as
// they do for GET /v1/status, and the packet path takes no lock for it.

#include <event2/event.h>

#include <memory>

#include "admin/node_history.h"
#include "relay/daemon/daemon_control.h"

namespace hearth::admin {

class HistorySampler {
  public:
    explicit HistorySampler(relay::DaemonControl& control);
    ~HistorySampler();
    HistorySampler(const HistorySampler&) = delete;
    HistorySampler& operator=(const HistorySampler&) = delete;

    const NodeHistory& history() const { return *history_; }

  private:
    static void on_tick(evutil_socket_t, short, void* context);

    relay::DaemonControl& control_;
    // Shared with a collection still under way when the sampler goes, at shutdown.
    std::shared_ptr<NodeHistory> history_ = std::make_shared<NodeHistory>();
    event* timer_ = nullptr;
};

}  // namespace hearth::admin
