#pragma once

// Requests the session store has not answered yet (DESIGN.md "Control plane rules"),
// parked under the question they wait on, so that one answer resumes exactly the
// requests that waited on it, each once. Bounded every way: one entry per 5-tuple and
// transaction (a retransmission is not parked twice), `per_source` per source (an IPv6
// source counts as its /64), `total` in all, and none waits longer than `max_wait`.
// Owned by one worker; no I/O here.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "relay/stun/message.h"
#include "relay/turn/authenticator.h"
#include "relay/turn/client_link.h"
#include "relay/turn/clock.h"
#include "relay/turn/five_tuple.h"

namespace hearth::relay {

class ParkedRequests {
  public:
    struct Limits {
        std::size_t total = 4096;
        std::size_t per_source = 64;
        std::chrono::seconds max_wait{10};
    };
    struct Request {
        std::vector<std::byte> bytes;  // the request as it came, handed in again
        turn::FiveTuple tuple;
        turn::ClientLink* link = nullptr;
        stun::TransactionId transaction_id{};
        turn::TimePoint parked_at;
    };
    enum class Result { parked, already_parked, source_full, table_full };

    explicit ParkedRequests(Limits limits) : limits_(limits) {}

    Result park(const turn::StoreQuestion& question, const turn::FiveTuple& tuple,
                turn::ClientLink& link, stun::Bytes request,
                const stun::TransactionId& transaction_id, turn::TimePoint now);
    // Removes and returns the requests parked under `question`, in the order they came.
    std::vector<Request> take(const turn::StoreQuestion& question);
    // Drops the requests of a link that is gone (a closed TCP or TLS connection).
    void forget(const turn::ClientLink& link);
    // Drops the requests parked longer than max_wait; returns how many went.
    std::size_t expire(turn::TimePoint now);

    std::size_t size() const { return size_; }

  private:
    struct Key {
        turn::FiveTuple tuple;
        stun::TransactionId transaction_id;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept;
    };
    struct SourceHash {
        std::size_t operator()(const IpAddress& source) const noexcept;
    };
    // Takes the bookkeeping of a request that leaves the table.
    void unpark(const Request& request);
    template <typename Doomed>
    std::size_t drop_where(Doomed doomed);

    Limits limits_;
    std::size_t size_ = 0;
    std::unordered_map<turn::StoreQuestion, std::vector<Request>, turn::StoreQuestionHash>
        by_question_;
    std::unordered_set<Key, KeyHash> parked_;
    std::unordered_map<IpAddress, std::size_t, SourceHash> per_source_;
};

}  // namespace hearth::relay
