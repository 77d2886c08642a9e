// This node in Redis (hearth:node:{id}, README "Redis schema"): its heartbeat, the other
// nodes a drain can redirect to, and each allocation's call quality for the backend.

#include <spdlog/fmt/fmt.h>

#include "auth/redis_session_store.h"
#include "relay/daemon/daemon_control.h"

namespace hearth::relay {

namespace {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void DaemonControl::register_node() {
    if (stores_.redis == nullptr) {
        return;
    }
    stores_.redis->set_node_info([this] {
        auth::NodeInfo info;
        const auto advertised = config_.relay.advertised_ipv4();
        const std::string host = advertised ? advertised->to_string() : "";
        const auto port = config_.listen.udp.empty() ? 3478 : config_.listen.udp.front().port;
        info.turn = host + ":" + std::to_string(port);
        info.admin = config_.admin.listen ? config_.admin.listen->to_string() : "";
        info.draining = draining_;
        info.allocations = shared_.limits.quota.total();
        info.seen_unix = unix_now();
        info.secrets = auth::report_text(ring_);
        return info;
    });
    stores_.redis->announce();
    if (config_.session_store.redis.metrics_interval.count() > 0 && quality_timer_ == nullptr) {
        quality_timer_ = event_new(
            main_base_, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* self) {
                static_cast<DaemonControl*>(self)->write_quality();
            },
            this);
        const timeval every{
            static_cast<time_t>(config_.session_store.redis.metrics_interval.count()), 0};
        event_add(quality_timer_, &every);
    }
    if (!config_.drain.alternate_server && registry_timer_ == nullptr) {
        // Keep a redirect target for when this node is full, and for a drain.
        registry_timer_ = event_new(
            main_base_, -1, EV_PERSIST,
            [](evutil_socket_t, short, void* self) {
                static_cast<DaemonControl*>(self)->refresh_redirect_from_registry();
            },
            this);
        const timeval every{10, 0};
        event_add(registry_timer_, &every);
    }
}

void DaemonControl::write_quality() {
    collect([this](std::vector<WorkerSnapshot> workers) {
        const auto ttl = config_.session_store.redis.metrics_interval * 3;
        for (const auto& worker : workers) {
            for (const auto& a : worker.allocations) {
                const auto leg = [](const turn::DirectionCounters& counters, std::uint64_t bps,
                                    const turn::MediaTotals& media) {
                    return fmt::format(
                        R"({{"bits_per_second":{},"bytes":{},"dropped":{},"rtp_expected":{},)"
                        R"("rtp_lost":{},"jitter_ms":{:.2f}}})",
                        bps, counters.bytes, counters.dropped(), media.rtp_expected, media.rtp_lost,
                        media.jitter_milliseconds);
                };
                const std::string json = fmt::format(
                    R"({{"node":"{}","allocation":{},"user":"{}","transport":"{}",)"
                    R"("quality":{},"at":{},"client_to_peer":{},"peer_to_client":{}}})",
                    stores_.redis->node_id(), a.id, a.user_id, a.transport, a.quality, unix_now(),
                    leg(a.client_to_peer, a.client_to_peer_bps, a.client_to_peer_media),
                    leg(a.peer_to_client, a.peer_to_client_bps, a.peer_to_client_media));
                stores_.redis->write_quality(
                    a.session_id, stores_.redis->node_id() + "/" + std::to_string(a.id), json, ttl);
            }
        }
    });
}

void DaemonControl::list_nodes(std::function<void(std::vector<auth::NodeInfo>)> done) {
    if (stores_.redis == nullptr) {
        done({});
        return;
    }
    stores_.redis->list_nodes([done = std::move(done)](auto nodes) {
        done(nodes.value_or(std::vector<auth::NodeInfo>{}));
    });
}

}  // namespace hearth::relay
