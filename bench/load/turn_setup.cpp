#include "bench/load/turn_setup.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>

#include "auth/credential.h"
#include "relay/stun/attributes.h"
#include "relay/stun/message_builder.h"

namespace hearth::load {

namespace attribute = stun::attribute;
using Clock = std::chrono::steady_clock;

namespace {

// done; send a new request (after a 401 or 438); the same from a new connection (437:
// the kernel gave this socket the port of an allocation an earlier run left behind); failed.
enum class Verdict { done, again, again_from_new_port, failed };

constexpr std::size_t window = 256;  // requests in flight at once
constexpr int max_sends = 7;         // RFC 8489 §6.2.1's Rc
constexpr auto first_timeout = std::chrono::milliseconds(500);

stun::TransactionId random_transaction() {
    static std::mt19937_64 random{std::random_device{}()};
    stun::TransactionId id;
    for (auto& byte : id) {
        byte = static_cast<std::byte>(random());
    }
    return id;
}

int error_code_of(const stun::MessageView& answer) {
    const auto value = answer.find(attribute::error_code);
    const auto code = value ? stun::decode_error_code(*value) : std::nullopt;
    return code ? code->code : 0;
}

}  // namespace

LoadClients::LoadClients(const LoadOptions& options, std::string& error) : options_(options) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() +
                        86400;
    clients_.resize(options.allocations);
    for (unsigned i = 0; i < options.allocations; ++i) {
        LoadClient& client = clients_[i];
        client.connection =
            ClientConnection::open(options.transport, options.server, tls_.get(), error);
        if (client.connection == nullptr) {
            error = "allocation " + std::to_string(i) + ": " + error;
            return;
        }
        epoll_event event{EPOLLIN, {.u32 = i}};
        epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client.connection->fd(), &event);
        const std::string session =
            options.sessions == 1 ? options.session
                                  : options.session + "-" + std::to_string(i % options.sessions);
        client.username = auth::make_username(expiry, session, options.user);
        client.password = auth::mint_password(options.secret, client.username);
    }
}

LoadClients::~LoadClients() {
    if (epoll_fd_ >= 0) {
        ::close(epoll_fd_);
    }
}

std::vector<std::byte> LoadClients::request_for(Step step, LoadClient& client,
                                                const stun::TransactionId& id) const {
    std::array<std::byte, 512> buffer{};
    const stun::Method method = step == Step::allocate  ? stun::Method::allocate
                                : step == Step::release ? stun::Method::refresh
                                                        : (options_.mode == DataMode::channel
                                                               ? stun::Method::channel_bind
                                                               : stun::Method::create_permission);
    stun::MessageBuilder builder(buffer, method, stun::MessageClass::request, id);
    if (step == Step::allocate) {
        const std::array<std::byte, 4> udp{std::byte{17}, {}, {}, {}};
        builder.add(attribute::requested_transport, udp);
    } else if (step == Step::release) {
        builder.add_u32(attribute::lifetime, 0);
    } else {
        if (method == stun::Method::channel_bind) {
            builder.add_u32(attribute::channel_number, std::uint32_t{client.channel} << 16);
        }
        builder.add_xor_address(attribute::xor_peer_address, client.peer);
    }
    if (!client.nonce.empty()) {
        builder.add_string(attribute::username, client.username);
        builder.add_string(attribute::realm, client.realm);
        builder.add_string(attribute::nonce, client.nonce);
        builder.add_message_integrity(client.key);
    }
    builder.add_fingerprint();
    const auto bytes = builder.finish();
    return {bytes.begin(), bytes.end()};
}

void LoadClients::send(Round& round, std::size_t index, bool fresh) {
    Pending& entry = round.pending[index];
    if (fresh) {
        entry.id = random_transaction();
        entry.bytes = request_for(round.step, clients_[index], entry.id);
        entry.sends = 0;
    }
    clients_[index].connection->send(stun::Bytes(entry.bytes));
    // RFC 8489 §6.2.2: over a stream nothing is sent again; the answer has Ti (39.5 s).
    entry.resend_at = Clock::now() + (clients_[index].connection->is_stream()
                                          ? std::chrono::milliseconds(39'500)
                                          : first_timeout * (1 << entry.sends));
    ++entry.sends;
}

template <typename OnAnswer>
bool LoadClients::take_answers(Round& round, std::size_t index, OnAnswer& on_answer,
                               std::string& error) {
    Pending& entry = round.pending[index];
    bool failed = false;
    bool reconnect = false;
    const bool open = clients_[index].connection->receive([&](stun::Bytes bytes) {
        const auto answer = stun::MessageView::parse(bytes);
        if (failed || reconnect || !answer || entry.done || answer->transaction_id() != entry.id) {
            return;  // a late answer to a retransmission, or not STUN
        }
        switch (on_answer(clients_[index], *answer)) {
            case Verdict::done:
                entry.done = true;
                ++round.finished;
                break;
            case Verdict::again:
                send(round, index, true);
                break;
            case Verdict::again_from_new_port:
                reconnect = true;
                break;
            case Verdict::failed:
                failed = true;
                break;
        }
    });
    const std::string which = "allocation " + std::to_string(index) + ": ";
    if (failed) {
        error = which + error;
        return false;
    }
    if (reconnect) {
        if (++entry.reopens > 10) {
            error = which + "437 from ten ports in a row";
            return false;
        }
        if (!reopen(index, error)) {
            return false;
        }
        send(round, index, true);
        return true;
    }
    if (!open) {
        error = which + "the server closed the connection";
        return false;
    }
    return true;
}

bool LoadClients::resend_overdue(Round& round, std::string& error) {
    const auto now = Clock::now();
    for (std::size_t i = 0; i < round.started; ++i) {
        Pending& entry = round.pending[i];
        if (entry.done || now < entry.resend_at) {
            continue;
        }
        if (entry.sends == max_sends || clients_[i].connection->is_stream()) {
            error = "no answer from " + options_.server.to_string() + " for allocation " +
                    std::to_string(i) + " after " + std::to_string(entry.sends) + " tries";
            return false;
        }
        send(round, i, false);
    }
    return true;
}

template <typename OnAnswer>
bool LoadClients::exchange(Step step, OnAnswer on_answer, std::string& error) {
    Round round{step, std::vector<Pending>(clients_.size())};
    std::array<epoll_event, 256> events{};
    auto next_scan = Clock::now();
    while (round.finished < clients_.size()) {
        while (round.started < clients_.size() && round.started - round.finished < window) {
            send(round, round.started++, true);
        }
        const int ready = epoll_wait(epoll_fd_, events.data(), events.size(), 10);
        for (int e = 0; e < ready; ++e) {
            if (!take_answers(round, events[e].data.u32, on_answer, error)) {
                return false;
            }
        }
        if (Clock::now() >= next_scan) {
            next_scan = Clock::now() + std::chrono::milliseconds(50);
            if (!resend_overdue(round, error)) {
                return false;
            }
        }
    }
    return true;
}

bool LoadClients::allocate(std::chrono::duration<double>& elapsed, std::string& error) {
    const auto start = Clock::now();
    const bool ok = exchange(
        Step::allocate,
        [&error](LoadClient& client, const stun::MessageView& answer) {
            if (answer.message_class() == stun::MessageClass::success_response) {
                const auto relayed = answer.find(attribute::xor_relayed_address);
                const auto address =
                    relayed ? stun::decode_xor_address(*relayed, answer.transaction_id())
                            : std::nullopt;
                if (!address) {
                    error = "Allocate answered without XOR-RELAYED-ADDRESS";
                    return Verdict::failed;
                }
                client.relayed = *address;
                return Verdict::done;
            }
            const int code = error_code_of(answer);
            if (code == 437) {
                client.nonce.clear();  // a new 5-tuple starts with a 401 again
                return Verdict::again_from_new_port;
            }
            const auto nonce = answer.find(attribute::nonce);
            const auto realm = answer.find(attribute::realm);
            // RFC 8489 §9.2.4: 401 (first try) and 438 (stale nonce) carry what to retry with.
            const bool retry = (code == 401 && client.nonce.empty()) || code == 438;
            if (retry && nonce && realm) {
                client.nonce = std::string(stun::decode_nonce(*nonce).value_or(""));
                client.realm = std::string(stun::decode_realm(*realm).value_or(""));
                client.key =
                    stun::long_term_key_md5(client.username, client.realm, client.password);
                return Verdict::again;
            }
            error = "Allocate refused with " + std::to_string(code) +
                    (code == 401 ? " (wrong --secret?)" : "");
            return Verdict::failed;
        },
        error);
    elapsed = Clock::now() - start;
    return ok;
}

bool LoadClients::open_paths(DataMode mode, std::string& error) {
    return exchange(
        Step::bind,
        [&error, mode](LoadClient&, const stun::MessageView& answer) {
            if (answer.message_class() == stun::MessageClass::success_response) {
                return Verdict::done;
            }
            error = std::string(mode == DataMode::channel ? "ChannelBind" : "CreatePermission") +
                    " refused with " + std::to_string(error_code_of(answer)) +
                    (error_code_of(answer) == 403 ? " (the server's peer policy refuses the peer)"
                                                  : "");
            return Verdict::failed;
        },
        error);
}

bool LoadClients::reopen(std::size_t index, std::string& error) {
    LoadClient& client = clients_[index];
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, client.connection->fd(), nullptr);
    client.connection =
        ClientConnection::open(options_.transport, options_.server, tls_.get(), error);
    if (client.connection == nullptr) {
        error = "allocation " + std::to_string(index) + ": " + error;
        return false;
    }
    epoll_event event{EPOLLIN, {.u32 = static_cast<std::uint32_t>(index)}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client.connection->fd(), &event);
    return true;
}

void LoadClients::release() {
    std::string ignored;
    exchange(
        Step::release, [](LoadClient&, const stun::MessageView&) { return Verdict::done; },
        ignored);
}

}  // namespace hearth::load
