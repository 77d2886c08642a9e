#pragma once

// One load client's connection to the TURN server: a connected UDP socket, a TCP
// connection, or TLS over TCP. Messages go out whole; what comes in is cut into STUN and
// ChannelData messages (RFC 8656 §12.5 framing on streams). Non-blocking once set up.

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/load/load_options.h"
#include "relay/stun/message.h"
#include "relay/stun/transport_address.h"

namespace hearth::load {

// The client side of TLS: no certificate check (a benchmark, often self-signed).
class ClientTlsContext {
  public:
    ClientTlsContext();
    ~ClientTlsContext();
    ClientTlsContext(const ClientTlsContext&) = delete;
    ClientTlsContext& operator=(const ClientTlsContext&) = delete;
    SSL_CTX* get() const { return context_; }

  private:
    SSL_CTX* context_ = nullptr;
};

class ClientConnection {
  public:
    // Connects (and for TLS completes the handshake) before returning; null with `error`.
    static std::unique_ptr<ClientConnection> open(Transport transport,
                                                  const TransportAddress& server, SSL_CTX* tls,
                                                  std::string& error);
    ~ClientConnection();
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    int fd() const { return fd_; }
    bool is_stream() const { return transport_ != Transport::udp; }
    // Local address the server sees (the echo peer binds next to it).
    std::optional<TransportAddress> local_address() const;

    // Sends each message (UDP: one datagram each, with sendmmsg; streams: back to back).
    // What a stream cannot take now waits and goes first next time. Returns how many went
    // out or wait to: over UDP, those a full send buffer did not refuse.
    std::size_t send(std::span<const stun::Bytes> messages);
    std::size_t send(stun::Bytes message) {
        return send(std::span<const stun::Bytes>(&message, 1));
    }

    // Calls on_message(Bytes) for every message waiting. False once the server closed.
    template <typename OnMessage>
    bool receive(OnMessage&& on_message);

  private:
    ClientConnection(Transport transport, int fd, SSL* ssl)
        : transport_(transport), fd_(fd), ssl_(ssl) {}
    // Reads what the socket holds into input_ (streams); false at end of stream.
    bool fill();
    void flush();

    Transport transport_;
    int fd_;
    SSL* ssl_;
    // Streams only: room for the largest ChannelData (RFC 8656 §12.4), left uninitialised
    // so that a thousand idle clients do not touch their pages.
    static constexpr std::size_t input_size = 70'000;
    std::unique_ptr<std::byte[]> input_;
    std::size_t input_used_ = 0;
    std::vector<std::byte> pending_;  // stream bytes the kernel did not take yet
};

}  // namespace hearth::load

#include "bench/load/client_connection_receive.h"
