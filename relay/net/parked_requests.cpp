#include "relay/net/parked_requests.h"

#include <algorithm>

#include "relay/turn/source_prefix.h"

namespace hearth::relay {

std::size_t ParkedRequests::KeyHash::operator()(const Key& key) const noexcept {
    std::size_t hash = turn::FiveTupleHash{}(key.tuple);
    for (const std::byte byte : key.transaction_id) {
        hash = hash * 131 + static_cast<std::size_t>(byte);
    }
    return hash;
}

std::size_t ParkedRequests::SourceHash::operator()(const IpAddress& source) const noexcept {
    return TransportAddressHash{}(TransportAddress{source, 0});
}

ParkedRequests::Result ParkedRequests::park(const turn::StoreQuestion& question,
                                            const turn::FiveTuple& tuple, turn::ClientLink& link,
                                            stun::Bytes request,
                                            const stun::TransactionId& transaction_id,
                                            turn::TimePoint now) {
    if (parked_.contains(Key{tuple, transaction_id})) {
        return Result::already_parked;  // a retransmission: the first copy gets the answer
    }
    if (size_ >= limits_.total) {
        return Result::table_full;
    }
    std::size_t& from_source = per_source_[turn::source_prefix(tuple.client.ip)];
    if (from_source >= limits_.per_source) {
        return Result::source_full;
    }
    ++from_source;
    ++size_;
    parked_.insert(Key{tuple, transaction_id});
    by_question_[question].push_back(
        Request{{request.begin(), request.end()}, tuple, &link, transaction_id, now});
    return Result::parked;
}

void ParkedRequests::unpark(const Request& request) {
    parked_.erase(Key{request.tuple, request.transaction_id});
    const auto source = per_source_.find(turn::source_prefix(request.tuple.client.ip));
    if (source != per_source_.end() && --source->second == 0) {
        per_source_.erase(source);
    }
    --size_;
}

std::vector<ParkedRequests::Request> ParkedRequests::take(const turn::StoreQuestion& question) {
    const auto found = by_question_.find(question);
    if (found == by_question_.end()) {
        return {};
    }
    std::vector<Request> taken = std::move(found->second);
    by_question_.erase(found);
    for (const auto& request : taken) {
        unpark(request);
    }
    return taken;
}

template <typename Doomed>
std::size_t ParkedRequests::drop_where(Doomed doomed) {
    std::size_t dropped = 0;
    for (auto entry = by_question_.begin(); entry != by_question_.end();) {
        auto& requests = entry->second;
        const auto kept = std::stable_partition(requests.begin(), requests.end(),
                                                [&](const Request& r) { return !doomed(r); });
        for (auto request = kept; request != requests.end(); ++request) {
            unpark(*request);
            ++dropped;
        }
        requests.erase(kept, requests.end());
        entry = requests.empty() ? by_question_.erase(entry) : std::next(entry);
    }
    return dropped;
}

void ParkedRequests::forget(const turn::ClientLink& link) {
    if (size_ == 0) {
        return;  // the common case: a connection closes with nothing parked
    }
    drop_where([&link](const Request& request) { return request.link == &link; });
}

std::size_t ParkedRequests::expire(turn::TimePoint now) {
    if (size_ == 0) {
        return 0;
    }
    return drop_where(
        [&](const Request& request) { return now - request.parked_at >= limits_.max_wait; });
}

}  // namespace hearth::relay
