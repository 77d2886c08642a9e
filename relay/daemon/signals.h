#pragma once

// The signals hearthd answers, on the main loop: SIGINT stops at once; SIGTERM
// (systemctl stop) drains first, for at most drain.sigterm_deadline, so allocations keep
// relaying while new ones go elsewhere; SIGHUP reloads.

#include <event2/event.h>

#include "relay/daemon/daemon_control.h"

namespace hearth::relay {

class DaemonSignals {
  public:
    DaemonSignals(event_base* base, DaemonControl& control);
    ~DaemonSignals();
    DaemonSignals(const DaemonSignals&) = delete;
    DaemonSignals& operator=(const DaemonSignals&) = delete;

  private:
    static void on_stop(evutil_socket_t signal_number, short, void* context);
    static void on_reload(evutil_socket_t, short, void* context);

    DaemonControl& control_;
    event* sigint_;
    event* sigterm_;
    event* sighup_;
};

}  // namespace hearth::relay
