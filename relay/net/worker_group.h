#pragma once

// The workers of a node, one per core: built together on the main thread, each run on
// its own thread, reached only through post(). The group is also how an RFC 6062 data
// connection finds the worker that holds its peer connection.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "relay/config/config.h"
#include "relay/net/shared_state.h"
#include "relay/net/tcp_relay.h"
#include "relay/net/tls_context.h"
#include "relay/net/worker.h"

namespace hearth::relay {

class WorkerGroup final : public DataConnectionRouter {
  public:
    WorkerGroup(unsigned count, const config::Config& config, SharedState& shared,
                const SslContextPointer& tls_context);
    ~WorkerGroup() override;
    WorkerGroup(const WorkerGroup&) = delete;
    WorkerGroup& operator=(const WorkerGroup&) = delete;

    // Binds every worker's listeners; false and `error` when one cannot be bound.
    bool open_listeners(const config::Config& config, std::string& error);
    // Runs each worker on a thread of its own; worker i on the i-th allowed CPU if `pin`.
    void start(bool pin);
    void stop();  // every loop; safe from any thread
    void join();

    std::size_t size() const { return workers_.size(); }
    // Runs `task` on worker `index`'s thread.
    void post(std::size_t index, std::function<void(Worker&)> task);
    void hand_to_worker(unsigned worker_index, DetachedStream stream) override;

  private:
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace hearth::relay
