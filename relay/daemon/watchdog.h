#pragma once

// The systemd watchdog (WatchdogSec=): WATCHDOG=1 only while every worker's loop turns.
// Each tick posts a task to every worker, and the keep-alive goes out only if all of them
// ran the previous tick's. Does nothing when systemd asked for no keep-alives.

#include <event2/event.h>

#include <atomic>
#include <cstddef>

#include "relay/net/worker_group.h"

namespace hearth::relay {

class SystemdWatchdog {
  public:
    SystemdWatchdog(event_base* base, WorkerGroup& workers);
    ~SystemdWatchdog();
    SystemdWatchdog(const SystemdWatchdog&) = delete;
    SystemdWatchdog& operator=(const SystemdWatchdog&) = delete;

  private:
    static void on_tick(evutil_socket_t, short, void* context);

    WorkerGroup& workers_;
    std::atomic<std::size_t> answered_{0};
    std::size_t expected_ = 0;
    event* timer_ = nullptr;
};

}  // namespace hearth::relay
