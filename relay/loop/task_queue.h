#pragma once

// Work posted to an event loop from other threads: revocations, snapshots, reloads. A
// queue under a mutex and one event made active to wake the loop. Control plane only:
// the packet path never posts. Tasks still queued when the loop is gone are destroyed,
// not leaked.

#include <event2/event.h>

#include <functional>
#include <mutex>
#include <vector>

namespace hearth::relay {

class TaskQueue {
  public:
    explicit TaskQueue(event_base* base);
    ~TaskQueue();
    TaskQueue(const TaskQueue&) = delete;
    TaskQueue& operator=(const TaskQueue&) = delete;

    // Safe from any thread; the task runs on the loop's thread.
    void post(std::function<void()> task);

  private:
    static void on_wake(evutil_socket_t, short, void* context);

    event* wake_;
    std::mutex mutex_;
    std::vector<std::function<void()>> tasks_;
};

}  // namespace hearth::relay
