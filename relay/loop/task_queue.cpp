#include "relay/loop/task_queue.h"

namespace hearth::relay {

TaskQueue::TaskQueue(event_base* base) : wake_(event_new(base, -1, 0, &TaskQueue::on_wake, this)) {}

TaskQueue::~TaskQueue() {
    event_free(wake_);
}

void TaskQueue::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    event_active(wake_, EV_READ, 0);  // thread-safe once evthread_use_pthreads() has run
}

void TaskQueue::on_wake(evutil_socket_t, short, void* context) {
    auto* self = static_cast<TaskQueue*>(context);
    std::vector<std::function<void()>> ready;
    {
        std::lock_guard lock(self->mutex_);
        ready.swap(self->tasks_);
    }
    for (auto& task : ready) {
        task();
    }
}

}  // namespace hearth::relay
