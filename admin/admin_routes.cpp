// The admin API's routes: one function per resource, dispatched in AdminServer::route.
// Documented in the README ("Admin API").

#include <chrono>
#include <cstdlib>

#include "admin/admin_request.h"
#include "admin/admin_server.h"
#include "admin/json_writer.h"
#include "admin/metrics.h"
#include "admin/reply.h"
#include "auth/credential.h"
#include "auth/redis_session_store.h"
#include "auth/session_store.h"
#include "relay/net/udp_socket_drops.h"
#include "relay/net/worker.h"

namespace hearth::admin {

namespace {

constexpr std::int64_t default_credential_ttl = 3600;
constexpr std::int64_t max_credential_ttl = 86400;

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void write_allocation(JsonWriter& json, const relay::AllocationSnapshot& allocation) {
    json.begin_object()
        .field("id", allocation.id)
        .field("session", allocation.session_id)
        .field("user", allocation.user_id)
        .field("client", allocation.client)
        .field("transport", allocation.transport);
    json.key("relayed").begin_array();
    for (const auto& relayed : allocation.relayed) {
        json.value(relayed);
    }
    json.end_array()
        .field("age_seconds", allocation.age_seconds)
        .field("lifetime_remaining_seconds", allocation.lifetime_remaining_seconds)
        .field("permissions", static_cast<std::uint64_t>(allocation.permissions))
        .field("channels", static_cast<std::uint64_t>(allocation.channels));
    json.field("quality", allocation.quality);
    const auto leg = [&json](const char* name, const turn::DirectionCounters& counters,
                             std::uint64_t bits_per_second, const turn::MediaTotals& media) {
        json.key(name)
            .begin_object()
            .field("packets", counters.packets)
            .field("bytes", counters.bytes)
            .field("bits_per_second", bits_per_second);
        json.key("dropped")
            .begin_object()
            .field("no_permission", counters.dropped_no_permission)
            .field("peer_policy", counters.dropped_peer_policy)
            .field("bandwidth", counters.dropped_bandwidth)
            .field("queue_full", counters.dropped_queue_full)
            .field("malformed", counters.dropped_malformed)
            .end_object();
        json.field("paused_bandwidth", counters.paused_bandwidth);
        json.key("rtp")
            .begin_object()
            .field("sources", media.sources)
            .field("expected", media.rtp_expected)
            .field("received", media.rtp_received)
            .field("lost", media.rtp_lost)
            .field("jitter_ms", media.jitter_milliseconds)
            .end_object();
        json.end_object();
    };
    leg("client_to_peer", allocation.client_to_peer, allocation.client_to_peer_bps,
        allocation.client_to_peer_media);
    leg("peer_to_client", allocation.peer_to_client, allocation.peer_to_client_bps,
        allocation.peer_to_client_media);
    json.end_object();
}

// turn: URLs for every configured transport, on the relay's advertised address.
std::vector<std::string> ice_urls(const config::Config& config) {
    std::vector<std::string> urls;
    const std::string address = config.relay_ipv4 ? config.relay_ipv4->to_string() : "localhost";
    const std::string host = config.public_host.empty() ? address : config.public_host;
    if (!config.listen_udp.empty()) {
        urls.push_back("turn:" + host + ":" + std::to_string(config.listen_udp.front().port) +
                       "?transport=udp");
    }
    if (!config.listen_tcp.empty()) {
        urls.push_back("turn:" + host + ":" + std::to_string(config.listen_tcp.front().port) +
                       "?transport=tcp");
    }
    if (!config.listen_tls.empty()) {
        urls.push_back("turns:" + host + ":" + std::to_string(config.listen_tls.front().port) +
                       "?transport=tcp");
    }
    return urls;
}

}  // namespace

void AdminServer::route(const AdminRequest& request, std::string_view query, Respond respond) {
    auto& control = control_;

    if (request.route == Route::health) {
        control.collect([&control, respond](std::vector<relay::WorkerSnapshot> workers) {
            std::uint64_t allocations = 0;
            for (const auto& worker : workers) {
                allocations += worker.allocations.size();
            }
            JsonWriter json;
            json.begin_object()
                .field("status", "ready")
                .field("draining", control.draining())
                .field("uptime_seconds", now_unix() - control.started_unix())
                .field("workers", static_cast<std::uint64_t>(workers.size()))
                .field("allocations", allocations)
                .field("connections", control.shared().connections.open())
                .field("session_store", control.config().session_store)
                .field("session_store_state", control.session_store_up() ? "up" : "down")
                .end_object();
            respond({200, "application/json", json.take()});
        });
        return;
    }
    if (request.route == Route::metrics) {
        control.collect([&control, respond](std::vector<relay::WorkerSnapshot> workers) {
            control.list_sessions([&control, respond, workers = std::move(workers)](
                                      std::vector<auth::Session> sessions) {
                NodeFigures node;
                node.start_time_unix = control.started_unix();
                node.udp_socket_drops = relay::udp_socket_drops();
                node.connections_open = control.shared().connections.open();
                node.connections_refused_total = control.shared().connections.refused_total();
                node.connections_refused_per_source =
                    control.shared().connections.refused_per_source();
                node.per_allocation_series = control.config().metrics_per_allocation;
                node.session_store_up = control.session_store_up();
                for (const auto& session : sessions) {
                    node.sessions_active += session.state == auth::SessionState::active ? 1 : 0;
                }
                respond({200, "text/plain; version=0.0.4", render_metrics(workers, node)});
            });
        });
        return;
    }
    if (request.route == Route::list_allocations || request.route == Route::get_allocation) {
        const std::string session = query_parameter(query, "session");
        const std::string user = query_parameter(query, "user");
        const std::uint64_t id = request.allocation_id;
        control.collect([=](std::vector<relay::WorkerSnapshot> workers) {
            JsonWriter json;
            if (id != 0) {
                for (const auto& worker : workers) {
                    for (const auto& allocation : worker.allocations) {
                        if (allocation.id == id) {
                            write_allocation(json, allocation);
                            respond({200, "application/json", json.take()});
                            return;
                        }
                    }
                }
                respond(error_reply(404, "no such allocation"));
                return;
            }
            json.begin_object().key("allocations").begin_array();
            for (const auto& worker : workers) {
                for (const auto& allocation : worker.allocations) {
                    if ((session.empty() || allocation.session_id == session) &&
                        (user.empty() || allocation.user_id == user)) {
                        write_allocation(json, allocation);
                    }
                }
            }
            json.end_array().end_object();
            respond({200, "application/json", json.take()});
        });
        return;
    }
    if (request.route == Route::list_sessions) {
        control.list_sessions([respond](std::vector<auth::Session> sessions) {
            JsonWriter json;
            json.begin_object().key("sessions").begin_array();
            for (const auto& session : sessions) {
                json.begin_object()
                    .field("id", session.id)
                    .field("state", auth::to_string(session.state))
                    .field("not_before", session.not_before_unix)
                    .field("not_after", session.not_after_unix)
                    .field("allocation_cap", session.allocation_cap);
                json.key("participants").begin_array();
                for (const auto& participant : session.participants) {
                    json.value(participant);
                }
                json.end_array().end_object();
            }
            json.end_array().end_object();
            respond({200, "application/json", json.take()});
        });
        return;
    }
    if (request.route == Route::revoke_session) {
        const std::string session = request.path_id;
        const std::string user = query_parameter(query, "user");
        control.end_session(session, user, [&control, session, user, respond](bool known) {
            if (!known) {
                respond(
                    error_reply(404, user.empty() ? "unknown session" : "unknown session or user"));
                return;
            }
            control.delete_session_allocations(session, user, [=](std::size_t deleted) {
                JsonWriter json;
                json.begin_object()
                    .field("session", session)
                    .field("user", user)
                    .field("allocations_deleted", static_cast<std::uint64_t>(deleted))
                    .end_object();
                respond({200, "application/json", json.take()});
            });
        });
        return;
    }
    if (request.route == Route::mint_credentials) {
        const std::string session = query_parameter(query, "session");
        const std::string user = query_parameter(query, "user");
        const std::string ttl_text = query_parameter(query, "ttl");
        const auto parsed_ttl = ttl_text.empty() ? std::optional(default_credential_ttl)
                                                 : parse_decimal(ttl_text, 1, max_credential_ttl);
        if (!auth::is_valid_id(session) || !auth::is_valid_id(user)) {
            respond(error_reply(400, "session and user are required: [A-Za-z0-9._@-]{1,128}"));
            return;
        }
        if (!parsed_ttl) {
            respond(error_reply(400, "ttl must be 1 to 86400 seconds"));
            return;
        }
        const std::int64_t ttl = *parsed_ttl;
        control.session_store().check_session(
            session, user, now_unix(),
            [&control, session, user, ttl, respond](auth::SessionVerdict verdict) {
                if (verdict != auth::SessionVerdict::allowed) {
                    respond(error_reply(verdict == auth::SessionVerdict::unknown_session     ? 404
                                        : verdict == auth::SessionVerdict::store_unavailable ? 503
                                                                                             : 409,
                                        auth::to_string(verdict)));
                    return;
                }
                const std::string username = auth::make_username(now_unix() + ttl, session, user);
                JsonWriter json;
                json.begin_object().key("urls").begin_array();
                for (const auto& url : ice_urls(control.config())) {
                    json.value(url);
                }
                json.end_array()
                    .field("username", username)
                    .field("credential", auth::mint_password(control.minting_secret(), username))
                    .field("ttl", ttl)
                    .end_object();
                respond({200, "application/json", json.take()});
            });
        return;
    }
    if (request.route == Route::drain || request.route == Route::undrain) {
        if (request.route == Route::undrain) {
            control.undrain();
        } else {
            const std::string deadline_text = query_parameter(query, "deadline");
            const auto deadline =
                deadline_text.empty()
                    ? std::optional<std::int64_t>(control.config().drain_deadline.count())
                    : parse_decimal(deadline_text, 1, 7 * 86400);
            if (!deadline) {
                respond(error_reply(400, "deadline must be 1 to 604800 seconds"));
                return;
            }
            control.drain(std::chrono::seconds(*deadline));
        }
        JsonWriter json;
        json.begin_object().field("draining", control.draining()).end_object();
        respond({200, "application/json", json.take()});
        return;
    }
    if (request.route == Route::list_secrets) {
        JsonWriter json;
        json.begin_object().key("secrets").begin_array();
        for (const auto& secret : control.secret_names()) {
            json.begin_object()
                .field("name", secret.name)
                .field("source", secret.source)
                .end_object();
        }
        json.end_array().end_object();
        respond({200, "application/json", json.take()});
        return;
    }
    if (request.route == Route::add_secret || request.route == Route::retire_secret) {
        const bool add = request.route == Route::add_secret;
        const std::string name = add ? query_parameter(query, "name") : request.path_id;
        const std::string value = query_parameter(query, "value");
        if (name.empty() || (add && value.size() < 16)) {
            respond(
                error_reply(400, "a name, and for a new secret a value of 16 characters or more"));
            return;
        }
        const auto answer = [respond, name, add](bool done) {
            if (!done) {
                respond(
                    error_reply(409, add ? "secrets can be added only to Redis (session_store.kind "
                                           "= redis); edit the config and reload otherwise"
                                         : "no such secret in Redis; config-held secrets are "
                                           "retired by editing the config and reloading"));
                return;
            }
            JsonWriter json;
            json.begin_object().field(add ? "added" : "retired", name).end_object();
            respond({200, "application/json", json.take()});
        };
        if (add) {
            control.put_secret(name, value, answer);
        } else {
            control.retire_secret(name, answer);
        }
        return;
    }
    if (request.route == Route::list_nodes) {
        control.list_nodes([respond](std::vector<auth::NodeInfo> nodes) {
            JsonWriter json;
            json.begin_object().key("nodes").begin_array();
            for (const auto& node : nodes) {
                json.begin_object()
                    .field("id", node.id)
                    .field("turn", node.turn)
                    .field("admin", node.admin)
                    .field("draining", node.draining)
                    .field("allocations", node.allocations)
                    .field("seen", node.seen_unix)
                    .end_object();
            }
            json.end_array().end_object();
            respond({200, "application/json", json.take()});
        });
        return;
    }
    if (request.route == Route::reload) {
        control.reload([respond](relay::DaemonControl::ReloadReport report) {
            JsonWriter json;
            json.begin_object().field("applied", report.applied);
            for (const auto& [name, list] : {std::pair{"errors", &report.errors},
                                             std::pair{"applied_live", &report.applied_keys},
                                             std::pair{"needs_restart", &report.restart_keys}}) {
                json.key(name).begin_array();
                for (const auto& item : *list) {
                    json.value(item);
                }
                json.end_array();
            }
            json.end_object();
            respond({report.applied ? 200 : 422, "application/json", json.take()});
        });
        return;
    }
    // Every route parse_admin_request returns is answered above; this keeps a route added
    // there but not here from leaving the request without an answer.
    respond(error_reply(500, "endpoint not wired"));
}

}  // namespace hearth::admin
