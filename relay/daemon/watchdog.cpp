#include "relay/daemon/watchdog.h"

#include "relay/daemon/systemd_notify.h"

namespace hearth::relay {

SystemdWatchdog::SystemdWatchdog(event_base* base, WorkerGroup& workers) : workers_(workers) {
    const auto interval = systemd_watchdog_interval();
    if (!interval) {
        return;
    }
    timer_ = event_new(base, -1, EV_PERSIST, &SystemdWatchdog::on_tick, this);
    const auto half = *interval / 2;
    const timeval every{static_cast<time_t>(half.count() / 1000000),
                        static_cast<suseconds_t>(half.count() % 1000000)};
    event_add(timer_, &every);
}

SystemdWatchdog::~SystemdWatchdog() {
    if (timer_ != nullptr) {
        event_free(timer_);
    }
}

void SystemdWatchdog::on_tick(evutil_socket_t, short, void* context) {
    auto* self = static_cast<SystemdWatchdog*>(context);
    if (self->answered_.exchange(0) >= self->expected_) {
        systemd_notify("WATCHDOG=1");
    }
    self->expected_ = self->workers_.size();
    for (std::size_t index = 0; index < self->workers_.size(); ++index) {
        self->workers_.post(index, [self](Worker&) { self->answered_.fetch_add(1); });
    }
}

}  // namespace hearth::relay
