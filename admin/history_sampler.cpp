#include "admin/history_sampler.h"

#include <chrono>

namespace hearth::admin {

namespace {

std::int64_t now_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

HistorySampler::HistorySampler(relay::DaemonControl& control) : control_(control) {
    timer_ = event_new(control.base(), -1, EV_PERSIST, &HistorySampler::on_tick, this);
    const timeval every{NodeHistory::interval_ms / 1000, (NodeHistory::interval_ms % 1000) * 1000};
    event_add(timer_, &every);
    // The baseline now, so that the first sample comes one interval after the start.
    on_tick(-1, 0, this);
}

HistorySampler::~HistorySampler() {
    event_free(timer_);
}

void HistorySampler::on_tick(evutil_socket_t, short, void* context) {
    auto* self = static_cast<HistorySampler*>(context);
    self->control_.collect([history = self->history_](std::vector<relay::WorkerSnapshot> workers) {
        history->record(workers, now_unix_ms());
    });
}

}  // namespace hearth::admin
