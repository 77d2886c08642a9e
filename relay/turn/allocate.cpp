// Allocate (RFC 8656 §7.2): the admission of a request whose attributes
// allocate_request.cpp has read, the allocation's creation, and the answers.

#include <algorithm>
#include <cstring>

#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"
#include "relay/turn/allocate_request.h"
#include "relay/turn/lifetime.h"
#include "relay/turn/request.h"
#include "relay/turn/turn_server.h"

namespace hearth::turn {

using stun::MessageBuilder;
using stun::MessageClass;
using stun::Method;
namespace attribute = stun::attribute;

namespace {

std::string quota_key(const Owner& owner) {
    return owner.session_id + "/" + owner.user_id;
}

// RFC 8656 §18.11 ADDRESS-ERROR-CODE: family, reserved, then an ERROR-CODE body.
void add_address_error_code(MessageBuilder& builder, AddressFamily family, TurnError error) {
    const std::string_view reason = reason_phrase(error);
    std::array<std::byte, 64> value{};
    const int code = code_of(error);
    value[0] = static_cast<std::byte>(family);
    value[2] = static_cast<std::byte>(code / 100);
    value[3] = static_cast<std::byte>(code % 100);
    const auto length = std::min(reason.size(), value.size() - 4);
    std::memcpy(value.data() + 4, reason.data(), length);
    builder.add(attribute::address_error_code, stun::Bytes(value.data(), 4 + length));
}

}  // namespace

TurnServer::StunOutcome TurnServer::handle_allocate(Request& request) {
    if (Allocation* existing = find(request.tuple)) {
        // RFC 8656 §7.2: a retransmitted Allocate gets the same success response.
        if (existing->allocate_transaction == request.message.transaction_id() &&
            existing->owner().username == request.credentials->owner.username) {
            return allocate_success(request, *existing, std::nullopt);
        }
        return error_response(request, TurnError::allocation_mismatch,
                              "5-tuple already has an allocation");
    }

    // Each new allocation costs a socket, a session-store reservation and log lines: a
    // source asking faster than any client needs gets 486 ("at the present time", RFC 8656
    // §7.2) and is counted. An answer, not silence: over TCP a client does not retransmit.
    if (!shared_.allocate_requests.allow(request.tuple.client.ip, request.now.monotonic)) {
        ++counters_.allocate_rate_limited;
        return error_response(request, TurnError::allocation_quota_reached,
                              "Allocate rate of this address");
    }

    if (draining_) {
        return try_alternate(request, "node is draining");
    }

    const auto asked = read_allocate_request(request.message, request.tuple.transport);
    if (!asked) {
        return error_response(request, asked.error().error, asked.error().why);
    }
    // RFC 8656 §7.2 / RFC 6062 §5.1: a transport the server does not relay gets 442. A TCP
    // relay is a TCP proxy from the relay's address that no browser asks for: off unless
    // the operator turns it on (relay.tcp_allocations).
    if (asked->transport == RelayProtocol::tcp && !settings_.tcp_allocations) {
        ++counters_.tcp_allocations_refused;
        return error_response(request, TurnError::unsupported_transport_protocol,
                              "TCP relays are off (relay.tcp_allocations)");
    }
    if (!relay_sockets_.family_available(asked->family)) {
        return error_response(request, TurnError::address_family_not_supported,
                              asked->family == AddressFamily::ipv4
                                  ? "no IPv4 relay address configured"
                                  : "no IPv6 relay address configured");
    }
    return admit(request, *asked);
}

// A slot of the node's and the user's caps, then of the session's (the session store).
TurnServer::StunOutcome TurnServer::admit(Request& request, const AllocateRequest& asked) {
    const auto& owner = request.credentials->owner;
    const std::string key = quota_key(owner);
    // The ID is taken now so the cap can name the allocation; one left unused is skipped.
    const AllocationId id = next_allocation_id_++;
    auto activity = std::make_shared<RelayActivity>(request.now.monotonic);
    const auto admission =
        shared_.quota.acquire(key, {id, activity}, request.now.monotonic, settings_.rejoin_idle);
    switch (admission.result) {
        case AllocationQuota::Result::granted:
            break;
        case AllocationQuota::Result::replaced:
            release_replaced(admission.replaced);
            break;
        case AllocationQuota::Result::total_reached:
            return try_alternate(request, "server allocation cap reached");
        case AllocationQuota::Result::user_reached:
            return error_response(request, TurnError::allocation_quota_reached,
                                  "per-user allocation cap reached");
    }
    const auto [refusal, question] = reserve_session_slot(request, key);
    if (refusal == SessionRefusal::pending) {
        shared_.quota.release(key, id);
        shared_.allocate_requests.give_back(request.tuple.client.ip);  // it comes again
        StunOutcome parked;
        parked.waiting_for = StoreQuestion{question, owner.session_id, owner.user_id};
        return parked;
    }
    if (refusal != SessionRefusal::none) {
        shared_.quota.release(key, id);
        ++counters_.session_refusals;
        const TurnError error =
            refusal == SessionRefusal::cap_reached         ? TurnError::allocation_quota_reached
            : refusal == SessionRefusal::store_unavailable ? TurnError::server_error
                                                           : TurnError::unauthorized;
        return error_response(request, error, to_string(refusal));
    }
    return create_allocation(request, asked, id, std::move(activity));
}

// The session's cap follows the per-user cap's rejoin rule: a user holding an allocation
// of the session idle for rejoin_idle may be admitted past it, on that allocation's slot;
// it is deleted (replaced) and its slot, passed on, is not given back. Returns none,
// pending or a refusal, and the question the store was asked.
TurnServer::SessionSlotAnswer TurnServer::reserve_session_slot(Request& request,
                                                               const std::string& key) {
    const auto& owner = request.credentials->owner;
    const TimePoint now = request.now.monotonic;
    if (shared_.quota.has_idle(key, now, settings_.rejoin_idle)) {
        const SessionRefusal refusal = authenticator_.admit_allocation(
            owner, request.now.unix_seconds, PastSessionCap::replace_idle);
        if (refusal != SessionRefusal::replaces_idle) {
            return {refusal, StoreQuestion::Kind::admit_or_replace};
        }
        if (const auto idle = shared_.quota.hand_over_idle(key, now, settings_.rejoin_idle)) {
            release_replaced(*idle);
            return {SessionRefusal::none, StoreQuestion::Kind::admit_or_replace};
        }
        // Between the question and a late answer the idle allocation went: deleted or
        // expired (its slot given back) or handed to a rejoin of the same user asking at
        // the same time. A slot of its own, then, as any Allocate.
    }
    return {
        authenticator_.admit_allocation(owner, request.now.unix_seconds, PastSessionCap::refuse),
        StoreQuestion::Kind::admit};
}

// Rejoin: the replaced allocation is deleted by the worker that owns it, as every
// allocation is (no other thread touches it). Here at once when it is this worker's, so
// its session-store slot (unless handed over) is given back before this Allocate asks
// for one; else posted to its worker, and its slot of the per-user cap is already the new
// allocation's. Whether its session-store slot is given back, the quota says (destroy).
void TurnServer::release_replaced(AllocationId id) {
    if (!delete_replaced(id) && replace_elsewhere_) {
        replace_elsewhere_(id);
    }
}

// A scan of the worker's allocations: it runs once per replacement, never per packet.
bool TurnServer::delete_replaced(AllocationId id) {
    return delete_by_id(id, DeleteReason::replaced);
}

bool TurnServer::delete_by_id(AllocationId id, DeleteReason reason) {
    for (auto& [tuple, allocation] : allocations_) {
        if (allocation->id() == id) {
            destroy(*allocation, reason);
            return true;
        }
    }
    return false;
}

// The allocation itself, once admitted: its relayed addresses, lifetime and budgets.
TurnServer::StunOutcome TurnServer::create_allocation(Request& request,
                                                      const AllocateRequest& asked, AllocationId id,
                                                      std::shared_ptr<RelayActivity> activity) {
    const auto& owner = request.credentials->owner;
    const TimePoint now = request.now.monotonic;
    auto allocation = std::make_unique<Allocation>(id, request.tuple, owner,
                                                   settings_.max_permissions_per_allocation,
                                                   settings_.max_channels_per_allocation);
    allocation->activity = std::move(activity);  // the cap reads it, the packet path writes
    allocation->allocate_transaction = request.message.transaction_id();
    allocation->relay_protocol = asked.transport;
    allocation->client_link = request.client_link;
    allocation->created = now;
    allocation->quality.start(now);
    allocation->expires =
        now + granted_lifetime(asked.lifetime, settings_.lifetime_default, settings_.lifetime_max);
    allocation->client_to_peer_budget = TokenBucket(settings_.allocation_bandwidth_bps, now);
    allocation->peer_to_client_budget = TokenBucket(settings_.allocation_bandwidth_bps, now);
    allocation->session_budget = shared_.session_budgets.budget_for(owner.session_id, now);

    auto primary = relay_sockets_.open(asked.family, asked.even_port, *allocation);
    if (!primary) {
        shared_.quota.release(quota_key(owner), id);
        authenticator_.release_allocation(owner);
        return error_response(request, TurnError::insufficient_capacity,
                              "no relay port or file descriptor free");
    }
    (asked.family == AddressFamily::ipv4 ? allocation->relay_ipv4 : allocation->relay_ipv6) =
        *primary;

    std::optional<TurnError> additional_error;
    if (asked.dual) {
        if (!relay_sockets_.family_available(AddressFamily::ipv6)) {
            additional_error = TurnError::address_family_not_supported;
        } else if (auto secondary = relay_sockets_.open(AddressFamily::ipv6, false, *allocation)) {
            allocation->relay_ipv6 = *secondary;
        } else {
            additional_error = TurnError::insufficient_capacity;
        }
    }

    Allocation& created = *allocation;
    allocations_.emplace(request.tuple, std::move(allocation));
    ++counters_.allocations_created;
    // From the request's first arrival, a wait for the session store included, to now,
    // when the success answer goes out.
    counters_.histograms.setup_seconds.observe(
        allocation_buckets::setup,
        std::chrono::duration<double>(now - request.now.arrival()).count());
    events_.allocation_created(created);
    return allocate_success(request, created, additional_error);
}

void TurnServer::set_draining(bool draining, std::optional<Redirect> redirect) {
    draining_ = draining;
    redirect_ = std::move(redirect);
}

// RFC 8489 §10: 300 with ALTERNATE-SERVER (the plain, non-XOR address form of §14.15),
// after authentication so the answer carries MESSAGE-INTEGRITY. No alternate known: 508.
TurnServer::StunOutcome TurnServer::try_alternate(Request& request, std::string_view why) {
    if (!redirect_) {
        return error_response(request, TurnError::insufficient_capacity, why);
    }
    ++counters_.error_responses;
    events_.request_refused({request.tuple, request.message.method(), TurnError::try_alternate, why,
                             &request.credentials->owner});
    MessageBuilder builder(response_buffer_, Method::allocate, MessageClass::error_response,
                           request.message.transaction_id());
    builder.add_error_code(code_of(TurnError::try_alternate),
                           reason_phrase(TurnError::try_alternate));
    std::array<std::byte, 20> address{};
    const auto& alternate = redirect_->alternate_server;
    address[1] = static_cast<std::byte>(alternate.ip.family);
    address[2] = static_cast<std::byte>(alternate.port >> 8);
    address[3] = static_cast<std::byte>(alternate.port);
    std::memcpy(address.data() + 4, alternate.ip.bytes.data(), alternate.ip.size());
    builder.add(attribute::alternate_server, stun::Bytes(address.data(), 4 + alternate.ip.size()));
    if (!redirect_->alternate_domain.empty()) {
        builder.add_string(attribute::alternate_domain, redirect_->alternate_domain);
    }
    builder.add_string(attribute::software, settings_.software);
    builder.add_integrity(request.credentials->key);
    builder.add_fingerprint();
    return StunOutcome::reply(builder.finish());
}

TurnServer::StunOutcome TurnServer::allocate_success(
    Request& request, const Allocation& allocation,
    std::optional<TurnError> additional_family_error) {
    MessageBuilder builder(response_buffer_, Method::allocate, MessageClass::success_response,
                           request.message.transaction_id());
    for (const auto* relay :
         {allocation.relay_for(AddressFamily::ipv4), allocation.relay_for(AddressFamily::ipv6)}) {
        if (relay != nullptr) {
            builder.add_xor_address(attribute::xor_relayed_address,
                                    settings_.advertised.of(relay->address));
        }
    }
    if (additional_family_error) {
        add_address_error_code(builder, AddressFamily::ipv6, *additional_family_error);
    }
    const auto remaining =
        std::chrono::duration_cast<Seconds>(allocation.expires - request.now.monotonic);
    builder.add_u32(attribute::lifetime,
                    static_cast<std::uint32_t>(std::max<std::int64_t>(remaining.count(), 0)));
    builder.add_xor_address(attribute::xor_mapped_address, request.tuple.client);
    builder.add_string(attribute::software, settings_.software);
    builder.add_integrity(request.credentials->key);
    builder.add_fingerprint();
    return StunOutcome::reply(builder.finish());
}

}  // namespace hearth::turn
