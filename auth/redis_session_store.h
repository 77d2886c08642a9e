#pragma once

// The Redis session store (README "Redis schema"): sessions written by the signaling
// backend, allocation caps counted across every node, revocations published on a channel.
// Redis is reached through a RedisConnection on the event base of hearthd's main thread:
// no call blocks, none waits longer than the command timeout. Workers call in from their
// threads; their answers come back on the main thread.
//
// When Redis cannot answer, calls in progress never end because of it: an allocation's
// own requests are the state machine's to honour (refresh.cpp); a new allocation is
// admitted for a session and user this node knew to be live within `grace` (the
// heartbeat confirms every session it serves every few seconds, so the grace runs from
// the start of the outage); an unknown one is refused (fail closed). Once Redis answers
// again, every session this node serves is read again, so a revocation published
// meanwhile takes effect then.

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "auth/redis_connection.h"
#include "auth/secret_ring.h"
#include "auth/session_records.h"
#include "auth/session_store.h"
#include "relay/loop/task_queue.h"

struct redisReply;

namespace hearth::auth {

// The audit trail's streams (README "Redis schema"): every line to hearth:audit, and a
// session's lines to hearth:session:{id}:audit too, each trimmed to about its length.
struct AuditStreams {
    std::uint64_t maxlen = 100000;
    std::uint64_t session_maxlen = 1000;
    std::chrono::seconds session_ttl{7 * 86400};
};

struct RedisSettings {
    RedisConnectionSettings connection;
    // A session and user seen live this recently is still admitted while Redis is out.
    std::chrono::seconds grace{60};
    // This node's name in the per-node allocation counts.
    std::string node_id;
    // A node's counts expire this long after its last heartbeat: a dead node's
    // allocations stop counting against the caps.
    std::chrono::seconds count_ttl{30};
    // A session record expires this long after its last change.
    std::chrono::seconds record_ttl{7 * 86400};
};

// A node as the others see it in Redis (hearth:node:{id}), for redirects and status --all.
struct NodeInfo {
    std::string id;
    std::string turn;   // host:port clients are redirected to
    std::string admin;  // admin API address
    bool draining = false;
    std::uint64_t allocations = 0;
    std::int64_t seen_unix = 0;
};

class RedisSessionStore final : public SessionStore, public SessionRecordStore {
  public:
    using Revoked = std::function<void(const std::string& session, const std::string& user)>;
    RedisSessionStore(event_base* base, RedisSettings settings, Revoked on_revoked);
    ~RedisSessionStore() override;

    void start();  // connects, subscribes, starts the heartbeat; main thread
    // Shutdown: from now on requests are answered store_unavailable and nothing is sent.
    void close() { closing_.store(true); }

    void reserve_allocation(std::string_view session_id, std::string_view user_id,
                            std::int64_t now_unix, PastTheCap past_the_cap,
                            VerdictCallback done) override;
    void release_allocation(std::string_view session_id, std::string_view user_id) override;
    void check_session(std::string_view session_id, std::string_view user_id, std::int64_t now_unix,
                       VerdictCallback done) override;

    // Ends a session (or removes one participant) and publishes the revocation; main thread.
    void revoke(const std::string& session, const std::string& user,
                std::function<void(bool)> done);
    // Called on the main thread each time the connection to Redis is (re)established.
    void on_connected(std::function<void()> callback) { on_connected_ = std::move(callback); }

    // redis_store_records.cpp: secrets, the node registry, call quality, the session list.
    // The secrets in hearth:secrets (name -> value), sorted by name; main thread.
    void load_secrets(std::function<void(std::vector<NamedSecret>)> done);
    // hearth:secrets: adds (or replaces) and removes one; `done(false)` on failure.
    void put_secret(const std::string& name, const std::string& value,
                    std::function<void(bool)> done);
    void remove_secret(const std::string& name, std::function<void(bool)> done);
    // Call quality for the backend: one field per allocation in hearth:session:{id}:quality,
    // the hash expiring `ttl` after the last write; main thread.
    void write_quality(const std::string& session, const std::string& field,
                       const std::string& json, std::chrono::seconds ttl);
    // An audit line to the streams; any thread, never waits. `done` runs on the main
    // thread, false when hearth:audit did not take it (Redis down, closing).
    void append_audit(std::string session, std::string line, const AuditStreams& streams,
                      std::function<void(bool)> done);
    // Session records (hearth:session:{id}:record, hearth:sessions:ended). A change that
    // Redis did not take is counted (record_updates_lost), never retried: its fields
    // would be added twice if Redis had taken it after all.
    void update(std::string session, std::vector<RecordUpdate> updates,
                std::int64_t now_unix_ms) override;
    void read(std::string session, std::function<void(FlatRecord)> done) override;
    void ended(std::int64_t now_unix_ms,
               std::function<void(std::vector<EndedRecord>)> done) override;
    std::uint64_t record_updates_lost() const { return record_updates_lost_.load(); }
    // What this node's heartbeat registers; main thread.
    void set_node_info(std::function<NodeInfo()> provider) { node_info_ = std::move(provider); }
    // Registers now rather than at the next heartbeat (e.g. when draining starts).
    void announce();
    // The live nodes (those whose registration has not expired); main thread.
    void list_nodes(std::function<void(std::vector<NodeInfo>)> done);
    // The sessions listed in hearth:sessions; main thread.
    void list(std::function<void(std::vector<Session>)> done);

    bool connected() const { return connection_.up(); }
    std::uint64_t outages() const { return connection_.outages(); }
    std::uint64_t timeouts() const { return connection_.timeouts(); }
    // Its round-trip times and failed commands (redis_connection.h).
    const RedisConnection& connection() const { return connection_; }
    const std::string& node_id() const { return settings_.node_id; }

  private:
    // What this node knows of a session it has seen live: when, and its participants.
    struct KnownLive {
        std::chrono::steady_clock::time_point seen;
        std::set<std::string, std::less<>> participants;
    };
    // What the judge script is asked (its ARGV[5]): a check, or a reservation and what it
    // does past the cap.
    enum class Ask : std::uint8_t { check = 0, reserve = 1, reserve_or_replace = 2 };
    void judge(Ask ask, std::string session, std::string user, std::int64_t now_unix,
               VerdictCallback done);
    SessionVerdict verdict_without_store(const std::string& session, const std::string& user);
    void learn(const std::string& session, const std::string& user, SessionVerdict verdict,
               const redisReply* reply);
    void reached();
    void heartbeat();
    void check_served(const std::string& session);
    void forget_counts_of_an_earlier_run();
    std::string counted_sessions_key() const;  // hearth:node:{id}:sessions
    void revocation(const std::string& payload);
    void revoked(const std::string& session, const std::string& user);
    void command(std::vector<std::string> arguments, RedisConnection::Reply on_reply) {
        connection_.command(std::move(arguments), std::move(on_reply));
    }

    event_base* base_;
    RedisSettings settings_;
    Revoked on_revoked_;
    std::function<void()> on_connected_;
    std::function<NodeInfo()> node_info_;
    event* heartbeat_timer_ = nullptr;
    std::atomic<bool> closing_{false};
    std::atomic<std::uint64_t> record_updates_lost_{0};
    bool connected_once_ = false;
    // Main thread only.
    // The allocations this node holds, by session and user.
    std::map<std::string, std::map<std::string, std::uint32_t>, std::less<>> served_;
    std::map<std::string, KnownLive, std::less<>> known_live_;
    RedisConnection connection_;
    // The workers' calls, run on the main thread. Last, so destroyed first: a call still
    // queued at shutdown is dropped with it (not leaked, not run on a half-destroyed store).
    relay::TaskQueue tasks_;
};

}  // namespace hearth::auth
