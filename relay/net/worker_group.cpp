#include "relay/net/worker_group.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace hearth::relay {

namespace {

// Pins `thread` to the `index`-th CPU of those this process may use (taskset, cgroups).
void pin_to_cpu(std::thread& thread, std::size_t index) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) == 0) {
        return;
    }
    std::size_t wanted = index % static_cast<std::size_t>(CPU_COUNT(&allowed));
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &allowed) && wanted-- == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (pthread_setaffinity_np(thread.native_handle(), sizeof one, &one) != 0) {
                spdlog::warn("cannot pin worker {} to CPU {}", index, cpu);
            } else {
                spdlog::info("worker {} pinned to CPU {}", index, cpu);
            }
            return;
        }
    }
}

}  // namespace

WorkerGroup::WorkerGroup(unsigned count, const config::Config& config, SharedState& shared,
                         const SslContextPointer& tls_context) {
    shared.worker_count = count;
    shared.connections.set_workers(count);
    for (unsigned index = 0; index < count; ++index) {
        workers_.push_back(std::make_unique<Worker>(index, config, shared, tls_context, *this));
    }
    // Rejoin: an Allocate may replace the user's idle allocation on another worker; that
    // worker deletes it on its own thread (each allocation belongs to one worker).
    for (auto& worker : workers_) {
        worker->route_replacements([this](turn::AllocationId id) {
            const unsigned owner = Worker::worker_of(id);
            if (owner < workers_.size()) {
                post(owner, [id](Worker& target) { target.delete_replaced(id); });
            }
        });
    }
}

WorkerGroup::~WorkerGroup() {
    stop();
    join();
}

bool WorkerGroup::open_listeners(const config::Config& config, std::string& error) {
    for (auto& worker : workers_) {
        if (!worker->open_listeners(config, error)) {
            return false;
        }
    }
    return true;
}

void WorkerGroup::start(bool pin) {
    for (auto& worker : workers_) {
        threads_.emplace_back([&worker] { worker->run(); });
        if (pin) {
            pin_to_cpu(threads_.back(), threads_.size() - 1);
        }
    }
}

void WorkerGroup::stop() {
    for (auto& worker : workers_) {
        worker->stop();
    }
}

void WorkerGroup::join() {
    for (auto& thread : threads_) {
        thread.join();
    }
    threads_.clear();
}

void WorkerGroup::post(std::size_t index, std::function<void(Worker&)> task) {
    workers_[index]->post(std::move(task));
}

void WorkerGroup::hand_to_worker(unsigned worker_index, DetachedStream stream) {
    if (worker_index >= workers_.size()) {  // connection ids carry an existing worker's index
        if (stream.fd >= 0) {
            ::close(stream.fd);
        }
        return;
    }
    auto carried = std::make_shared<DetachedStream>(std::move(stream));
    workers_[worker_index]->post(
        [carried](Worker& target) { target.adopt_data_connection(std::move(*carried)); });
}

}  // namespace hearth::relay
