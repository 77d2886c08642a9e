#include "relay/turn/turn_server.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/long_term_credentials.h"
#include "relay/turn/request.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
using stun::Method;
namespace attribute = stun::attribute;

TurnServer::TurnServer(ServerSettings settings, PeerPolicy peer_policy,
                       Authenticator& authenticator, RelaySockets& relay_sockets,
                       AllocationEvents& events, SharedLimits& shared,
                       std::uint64_t allocation_id_base)
    : settings_(std::move(settings)),
      peer_policy_(std::move(peer_policy)),
      authenticator_(authenticator),
      relay_sockets_(relay_sockets),
      events_(events),
      shared_(shared),
      next_allocation_id_(allocation_id_base),
      indication_id_state_(allocation_id_base | 1) {
    shared_.unauthenticated_requests.set_rate(settings_.unauthenticated_requests_per_second);
    shared_.allocate_requests.set_rate(settings_.allocate_requests_per_second);
    shared_.upkeep_requests.set_rate(settings_.upkeep_requests_per_second);
}

TurnServer::~TurnServer() {
    delete_all(DeleteReason::shutdown);
}

void TurnServer::apply(ServerSettings settings, PeerPolicy peer_policy) {
    shared_.unauthenticated_requests.set_rate(settings.unauthenticated_requests_per_second);
    shared_.allocate_requests.set_rate(settings.allocate_requests_per_second);
    shared_.upkeep_requests.set_rate(settings.upkeep_requests_per_second);
    settings_ = std::move(settings);
    peer_policy_ = std::move(peer_policy);
    for (auto& [tuple, allocation] : allocations_) {
        withdraw_fast_path(*allocation);
    }
}

// Every request method hearth answers and what it needs before its handler runs. Only
// Binding goes without credentials (RFC 8489 §9.2). Allocate makes the 5-tuple's allocation
// and RFC 6062 §5.4's ConnectionBind comes on a new connection; every other method acts on
// the allocation of the 5-tuple it arrives on (RFC 8656 §5) and keeps it up. Those upkeep
// requests count against upkeep_requests_per_second; Allocate has its own rate (allocate.cpp).
const TurnServer::RequestMethod* TurnServer::request_method(Method method) {
    static constexpr std::array<RequestMethod, 7> methods{{
        {.method = Method::binding,
         .handle = &TurnServer::handle_binding,
         .needs_authentication = false,
         .needs_allocation = false,
         .counts_as_upkeep = false},
        {.method = Method::allocate,
         .handle = &TurnServer::handle_allocate,
         .needs_authentication = true,
         .needs_allocation = false,
         .counts_as_upkeep = false},
        {.method = Method::refresh,
         .handle = &TurnServer::handle_refresh,
         .needs_authentication = true,
         .needs_allocation = true,
         .counts_as_upkeep = true},
        {.method = Method::create_permission,
         .handle = &TurnServer::handle_create_permission,
         .needs_authentication = true,
         .needs_allocation = true,
         .counts_as_upkeep = true},
        {.method = Method::channel_bind,
         .handle = &TurnServer::handle_channel_bind,
         .needs_authentication = true,
         .needs_allocation = true,
         .counts_as_upkeep = true},
        {.method = Method::connect,
         .handle = &TurnServer::handle_connect,
         .needs_authentication = true,
         .needs_allocation = true,
         .counts_as_upkeep = true},
        {.method = Method::connection_bind,
         .handle = &TurnServer::handle_connection_bind,
         .needs_authentication = true,
         .needs_allocation = false,
         .counts_as_upkeep = false},
    }};
    const auto found = std::ranges::find(methods, method, &RequestMethod::method);
    return found == methods.end() ? nullptr : &*found;
}

TurnServer::StunOutcome TurnServer::handle_stun(const stun::MessageView& message,
                                                const FiveTuple& tuple, const Now& now,
                                                ClientLink* client_link) {
    if (message.message_class() == MessageClass::indication) {
        if (message.method() == Method::send) {
            return handle_send_indication(message, tuple, now.monotonic);
        }
        return {};  // RFC 8489 §6.3.2: other indications are dropped quietly
    }
    if (message.message_class() != MessageClass::request) {
        return {};  // a client has no business sending responses to a server
    }
    const RequestMethod* method = request_method(message.method());
    if (method == nullptr) {
        // RFC 8489 §6.3.1: a request for a method the server does not know.
        return unauthenticated_error(message, tuple, TurnError::bad_request, "unsupported method",
                                     now);
    }
    Request request{message, tuple, now, client_link, std::nullopt};
    // Binding alone goes without credentials; one that brings them has them checked like
    // any request (RFC 8489 §9.2.4) and its answer signed.
    const bool offers_credentials = message.has(attribute::message_integrity) ||
                                    message.has(attribute::message_integrity_sha256);
    if (!method->needs_authentication && !offers_credentials) {
        return (this->*method->handle)(request);
    }

    Allocation* existing = find(tuple);
    if (auto refused = authenticate(request, existing)) {
        return std::move(*refused);
    }

    if (!message.unknown_comprehension_required().empty()) {
        return error_response(request, TurnError::unknown_attribute,
                              "unknown comprehension-required attribute");
    }
    // Each upkeep request costs a session-store check, a table update or a TCP connection: a
    // source asking faster than any client needs gets 486 and is counted. An answer, not
    // silence: over TCP a client does not retransmit. Checked before the allocation is looked
    // up, so a source's answers to requests on no allocation of its own are bounded too.
    if (method->counts_as_upkeep &&
        !shared_.upkeep_requests.allow(tuple.client.ip, now.monotonic)) {
        ++counters_.upkeep_rate_limited;
        return error_response(request, TurnError::allocation_quota_reached,
                              "request rate of this address");
    }
    if (method->needs_allocation) {
        Allocation* allocation = existing;
        if (allocation == nullptr) {
            return error_response(request, TurnError::allocation_mismatch, "no allocation");
        }
        // RFC 8656 §5: every request on an allocation uses the username that created it.
        if (allocation->owner().username != request.credentials->owner.username) {
            return error_response(request, TurnError::wrong_credentials, "username differs");
        }
        request.allocation = allocation;
    }
    auto outcome = (this->*method->handle)(request);
    if (method->counts_as_upkeep && outcome.waiting_for) {
        shared_.upkeep_requests.give_back(tuple.client.ip);  // it comes again
    }
    return outcome;
}

// RFC 8489 §9.2.4: what a 401 or 438 gives the client to retry with: the realm, a fresh
// nonce and PASSWORD-ALGORITHMS, which the nonce's "Password algorithms" bit announces
// (§9.2). USERHASH is offered only where one can be checked: on a 5-tuple with an
// allocation, whose username it must hash to (SECURITY.md, "Username anonymity").
void TurnServer::add_challenge(MessageBuilder& builder, const FiveTuple& tuple, const Now& now) {
    const stun::SecurityFeatures features{.password_algorithms = true,
                                          .username_anonymity = find(tuple) != nullptr};
    builder.add_string(attribute::realm, authenticator_.realm());
    builder.add_string(attribute::nonce,
                       authenticator_.issue_nonce(tuple.client.ip, now.unix_seconds, features));
    builder.add(attribute::password_algorithms, offered_password_algorithms());
}

TurnServer::StunOutcome TurnServer::error_response(Request& request, TurnError error,
                                                   std::string_view why) {
    ++counters_.error_responses;
    // 403 is the peer policy's answer, logged once per allocation by count_peer_refusal.
    if (error != TurnError::forbidden) {
        events_.request_refused({request.tuple, request.message.method(), error, why,
                                 request.credentials ? &request.credentials->owner : nullptr});
    }
    MessageBuilder builder(response_buffer_, request.message.method(), MessageClass::error_response,
                           request.message.transaction_id());
    builder.add_error_code(code_of(error), reason_phrase(error));
    if (error == TurnError::unknown_attribute) {
        builder.add_unknown_attributes(request.message.unknown_comprehension_required());
    }
    if (error == TurnError::unauthorized || error == TurnError::stale_nonce) {
        add_challenge(builder, request.tuple, request.now);
    }
    builder.add_string(attribute::software, settings_.software);
    // RFC 8489 §9.2.4: errors to an authenticated request carry its integrity attribute.
    if (request.credentials) {
        builder.add_integrity(request.credentials->key);
    }
    builder.add_fingerprint();
    return StunOutcome::reply(builder.finish());
}

TurnServer::StunOutcome TurnServer::unauthenticated_error(const stun::MessageView& message,
                                                          const FiveTuple& tuple, TurnError error,
                                                          std::string_view why, const Now& now) {
    if (!shared_.unauthenticated_requests.allow(tuple.client.ip, now.monotonic)) {
        ++counters_.rate_limited;
        return {};
    }
    ++counters_.error_responses;
    // The first Allocate of every client lands here without credentials: that is the
    // protocol, not a refusal worth a log line (RFC 8656 §7.1 and §9.2.4 of RFC 8489).
    if (message.has(attribute::message_integrity) ||
        message.has(attribute::message_integrity_sha256)) {
        events_.request_refused({tuple, message.method(), error, why, nullptr});
    }
    // Kept small on purpose (max_unauthenticated_answer): no reason phrase (RFC 8489 §14.8
    // makes it diagnostic text of fewer than 128 characters; none is fewer), no SOFTWARE,
    // and FINGERPRINT only for a client that uses it (RFC 8489 §14.7 and RFC 8656 leave it
    // optional; a client that demultiplexes by it puts it in its requests).
    MessageBuilder builder(response_buffer_, message.method(), MessageClass::error_response,
                           message.transaction_id());
    builder.add_error_code(code_of(error), "");
    if (error == TurnError::unknown_attribute) {
        builder.add_unknown_attributes(message.unknown_comprehension_required());
    }
    if (error == TurnError::unauthorized || error == TurnError::stale_nonce) {
        add_challenge(builder, tuple, now);
    }
    if (message.fingerprint_offset()) {
        builder.add_fingerprint();
    }
    return StunOutcome::reply(builder.finish());
}

Allocation* TurnServer::find(const FiveTuple& tuple) {
    const auto found = allocations_.find(tuple);
    return found == allocations_.end() ? nullptr : found->second.get();
}

// The histograms of ended allocations (allocation_histograms.h): once per allocation. The
// wall clock, as the session record's end is read, since `destroy` is not handed the time.
void TurnServer::observe_end(const Allocation& allocation) {
    auto& histograms = counters_.histograms;
    const auto lived = std::max(Clock::now() - allocation.created, Clock::duration::zero());
    histograms.duration_seconds.observe(allocation_buckets::duration,
                                        std::chrono::duration<double>(lived).count());
    const auto up = allocation.client_to_peer_media.media();
    const auto down = allocation.peer_to_client_media.media();
    const auto expected = up.rtp_expected + down.rtp_expected;
    if (expected == 0) {
        return;  // no RTP: neither loss nor jitter means anything
    }
    const auto lost = std::clamp<std::int64_t>(up.rtp_lost + down.rtp_lost, 0,
                                               static_cast<std::int64_t>(expected));
    histograms.loss_ratio.observe(allocation_buckets::loss,
                                  static_cast<double>(lost) / static_cast<double>(expected));
    histograms.jitter_seconds.observe(
        allocation_buckets::jitter,
        std::max(up.jitter_milliseconds, down.jitter_milliseconds) / 1000.0);
}

void TurnServer::destroy(Allocation& allocation, DeleteReason reason) {
    // First, so that not one more packet is carried and its last are in the counters below.
    withdraw_fast_path(allocation);
    ++counters_.allocations_deleted;
    if (reason == DeleteReason::replaced) {
        ++counters_.allocations_replaced;
    }
    events_.allocation_deleted(allocation, reason);
    observe_end(allocation);
    const auto transport = static_cast<std::size_t>(allocation.five_tuple().transport);
    for (auto [retired, live] :
         {std::pair{&counters_.retired_client_to_peer[transport], &allocation.client_to_peer},
          std::pair{&counters_.retired_peer_to_client[transport], &allocation.peer_to_client}}) {
        add_counters(*retired, *live, direction_counter_rows);
    }
    for (auto* relay : {&allocation.relay_ipv4, &allocation.relay_ipv6}) {
        if (*relay) {
            relay_sockets_.close(**relay);
            relay->reset();
        }
    }
    // A replaced allocation's slot is already its successor's: this releases nothing then;
    // nor in the session store when that slot went too (a rejoin past the session's cap).
    const auto session_slot = shared_.quota.release(
        allocation.owner().session_id + "/" + allocation.owner().user_id, allocation.id());
    if (session_slot == AllocationQuota::SessionSlot::give_back) {
        authenticator_.release_allocation(allocation.owner());
    }
    allocations_.erase(allocation.five_tuple());
}

void TurnServer::expire(const Now& now) {
    collect_fast_path();
    std::vector<Allocation*> expired;
    for (auto& [tuple, allocation] : allocations_) {
        if (allocation->expires <= now.monotonic) {
            expired.push_back(allocation.get());
        } else {
            allocation->expire(now.monotonic);
            if (allocation->quality.due(now.monotonic)) {
                allocation->quality.sample_now(allocation->to_peer_totals(),
                                               allocation->to_client_totals(), now.monotonic,
                                               now.unix_seconds * 1000);
            }
        }
    }
    for (auto* allocation : expired) {
        destroy(*allocation, DeleteReason::expired);
    }
}

void TurnServer::client_gone(const FiveTuple& tuple) {
    if (auto* allocation = find(tuple)) {
        destroy(*allocation, DeleteReason::client_gone);
    }
}

void TurnServer::delete_all(DeleteReason reason) {
    while (!allocations_.empty()) {
        destroy(*allocations_.begin()->second, reason);
    }
}

std::size_t TurnServer::delete_where_session(std::string_view session_id, std::string_view user_id,
                                             DeleteReason reason) {
    std::vector<Allocation*> doomed;
    for (auto& [tuple, allocation] : allocations_) {
        const auto& owner = allocation->owner();
        if (owner.session_id == session_id && (user_id.empty() || owner.user_id == user_id)) {
            doomed.push_back(allocation.get());
        }
    }
    for (auto* allocation : doomed) {
        destroy(*allocation, reason);
    }
    return doomed.size();
}

const char* to_string(DeleteReason reason) {
    switch (reason) {
        case DeleteReason::client_request:
            return "client request";
        case DeleteReason::expired:
            return "expired";
        case DeleteReason::client_gone:
            return "client connection closed";
        case DeleteReason::revoked:
            return "session revoked";
        case DeleteReason::shutdown:
            return "shutdown";
        case DeleteReason::replaced:
            return "replaced by the user's new allocation";
        case DeleteReason::disconnected:
            return "disconnected by an operator";
    }
    return "?";
}

const char* name_of(DeleteReason reason) {
    switch (reason) {
        case DeleteReason::client_request:
            return "client_request";
        case DeleteReason::expired:
            return "expired";
        case DeleteReason::client_gone:
            return "client_gone";
        case DeleteReason::revoked:
            return "revoked";
        case DeleteReason::shutdown:
            return "shutdown";
        case DeleteReason::replaced:
            return "replaced";
        case DeleteReason::disconnected:
            return "disconnected";
    }
    return "unknown";
}

const char* to_string(Direction direction) {
    return direction == Direction::client_to_peer ? "client_to_peer" : "peer_to_client";
}

}  // namespace hearth::turn
