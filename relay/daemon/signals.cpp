#include "relay/daemon/signals.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include "relay/daemon/systemd_notify.h"

namespace hearth::relay {

DaemonSignals::DaemonSignals(event_base* base, DaemonControl& control)
    : control_(control),
      sigint_(evsignal_new(base, SIGINT, &DaemonSignals::on_stop, this)),
      sigterm_(evsignal_new(base, SIGTERM, &DaemonSignals::on_stop, this)),
      sighup_(evsignal_new(base, SIGHUP, &DaemonSignals::on_reload, this)) {
    for (event* signal_event : {sigint_, sigterm_, sighup_}) {
        event_add(signal_event, nullptr);
    }
}

DaemonSignals::~DaemonSignals() {
    for (event* signal_event : {sigint_, sigterm_, sighup_}) {
        event_free(signal_event);
    }
}

void DaemonSignals::on_stop(evutil_socket_t signal_number, short, void* context) {
    auto& control = static_cast<DaemonSignals*>(context)->control_;
    const auto deadline = control.config().drain.sigterm_deadline;
    if (signal_number == SIGTERM && deadline.count() > 0 && !control.draining()) {
        spdlog::info("SIGTERM: draining for at most {} s (SIGINT stops at once)", deadline.count());
        control.drain(deadline);
        control.check_drain_done();  // nobody to answer: an idle node stops at once
        return;
    }
    spdlog::info("signal {}: stopping", static_cast<int>(signal_number));
    systemd_notify("STOPPING=1");
    control.stop();
}

void DaemonSignals::on_reload(evutil_socket_t, short, void* context) {
    static_cast<DaemonSignals*>(context)->control_.reload({});
}

}  // namespace hearth::relay
