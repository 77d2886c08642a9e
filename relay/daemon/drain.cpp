// Drain (RFC 8489 §10, 300 Try Alternate): new Allocates go to another node, existing
// allocations keep relaying, and the node stops when the last one ends.

#include <spdlog/spdlog.h>

#include "auth/redis_session_store.h"
#include "relay/daemon/daemon_control.h"
#include "relay/daemon/systemd_notify.h"

namespace hearth::relay {

void DaemonControl::post_redirect(bool draining, std::optional<turn::Redirect> redirect) {
    for (std::size_t index = 0; index < workers_.size(); ++index) {
        workers_.post(index, [draining, redirect](Worker& target) {
            target.set_draining(draining, redirect);
        });
    }
}

// drain.alternate_server: where new Allocates go when the node drains or is full.
std::optional<turn::Redirect> DaemonControl::configured_redirect() const {
    if (!config_.drain.alternate_server) {
        return std::nullopt;
    }
    return turn::Redirect{*config_.drain.alternate_server, config_.drain.alternate_domain};
}

void DaemonControl::drain(std::chrono::seconds deadline) {
    draining_ = true;
    drain_deadline_ = std::chrono::steady_clock::now() + deadline;
    systemd_notify("STOPPING=1");
    spdlog::info(
        "draining: new allocations are redirected; exiting when the last one ends or "
        "in {} s",
        deadline.count());
    if (const auto redirect = configured_redirect()) {
        post_redirect(true, redirect);
    } else if (stores_.redis != nullptr) {
        refresh_redirect_from_registry();
    } else {
        post_redirect(true, std::nullopt);
    }
    if (stores_.redis != nullptr) {
        stores_.redis->announce();
    }
    if (drain_timer_ == nullptr) {
        drain_timer_ = event_new(
            main_base_, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* self) {
                static_cast<DaemonControl*>(self)->check_drain_done();
            },
            this);
    }
    const timeval every_second{1, 0};
    event_add(drain_timer_, &every_second);
}

// The least loaded live node that is not draining, as registered in Redis: where a
// draining or full node sends new allocations.
void DaemonControl::refresh_redirect_from_registry() {
    stores_.redis->list_nodes([this](std::optional<std::vector<auth::NodeInfo>> answer) {
        const auto nodes = answer.value_or(std::vector<auth::NodeInfo>{});
        std::optional<turn::Redirect> redirect;
        std::uint64_t fewest = UINT64_MAX;
        for (const auto& node : nodes) {
            const auto address = TransportAddress::parse(node.turn);
            if (!node.draining && node.id != stores_.redis->node_id() && address &&
                node.allocations < fewest) {
                fewest = node.allocations;
                redirect = turn::Redirect{*address, config_.drain.alternate_domain};
            }
        }
        if (draining_) {
            if (redirect) {
                spdlog::info("draining: redirecting to {}", redirect->alternate_server.to_string());
            } else {
                spdlog::warn("draining: no other live node in Redis; new allocations get 508");
            }
        }
        post_redirect(draining_, redirect);
    });
}

void DaemonControl::check_drain_done() {
    if (!draining_) {
        return;
    }
    const std::uint32_t left = shared_.limits.quota.total();
    if (left == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
        spdlog::info("drain done: {} allocation(s) left; stopping", left);
        event_del(drain_timer_);
        stop();
    }
}

void DaemonControl::undrain() {
    const bool was_draining = std::exchange(draining_, false);
    if (drain_timer_ != nullptr) {
        event_del(drain_timer_);
    }
    post_redirect(false, configured_redirect());
    if (was_draining) {
        systemd_notify("READY=1");
        if (stores_.redis != nullptr) {
            stores_.redis->announce();
        }
        spdlog::info("undrained: accepting new allocations");
    }
}

}  // namespace hearth::relay
