#include "bench/load/client_connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hearth::load {

ClientTlsContext::ClientTlsContext() {
    context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
    SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
    // RFC 7443: ALPN "stun.turn" for TURN over TLS.
    static const unsigned char alpn[] = {9, 's', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};
    SSL_CTX_set_alpn_protos(context_, alpn, sizeof alpn);
}

ClientTlsContext::~ClientTlsContext() {
    SSL_CTX_free(context_);
}

std::unique_ptr<ClientConnection> ClientConnection::open(Transport transport,
                                                         const TransportAddress& server,
                                                         SSL_CTX* tls, std::string& error) {
    sockaddr_storage address{};
    const socklen_t length = server.to_sockaddr(address);
    const int type = transport == Transport::udp ? SOCK_DGRAM : SOCK_STREAM;
    const int fd = socket(address.ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno) + " (raise ulimit -n?)";
        return nullptr;
    }
    // Blocking while it connects (and shakes hands): set-up is not what is measured.
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        error = "connect " + server.to_string() + ": " + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    SSL* ssl = nullptr;
    if (transport == Transport::tls) {
        ssl = SSL_new(tls);
        SSL_set_fd(ssl, fd);
        SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (SSL_connect(ssl) != 1) {
            error = "TLS handshake with " + server.to_string() + " failed";
            SSL_free(ssl);
            ::close(fd);
            return nullptr;
        }
    }
    if (transport != Transport::udp) {
        const int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto connection = std::unique_ptr<ClientConnection>(new ClientConnection(transport, fd, ssl));
    if (transport != Transport::udp) {
        connection->input_ = std::make_unique_for_overwrite<std::byte[]>(input_size);
    }
    return connection;
}

ClientConnection::~ClientConnection() {
    if (ssl_ != nullptr) {
        SSL_free(ssl_);
    }
    ::close(fd_);
}

std::optional<TransportAddress> ClientConnection::local_address() const {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
        return std::nullopt;
    }
    return TransportAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

std::size_t ClientConnection::send(std::span<const stun::Bytes> messages) {
    if (!is_stream()) {
        std::size_t sent = 0;
        constexpr std::size_t batch = 64;
        std::array<mmsghdr, batch> headers{};
        std::array<iovec, batch> vectors{};
        for (std::size_t start = 0; start < messages.size(); start += batch) {
            const std::size_t count = std::min(batch, messages.size() - start);
            for (std::size_t i = 0; i < count; ++i) {
                const auto& message = messages[start + i];
                vectors[i] = {const_cast<std::byte*>(message.data()), message.size()};
                headers[i].msg_hdr = {};
                headers[i].msg_hdr.msg_iov = &vectors[i];
                headers[i].msg_hdr.msg_iovlen = 1;
            }
            const int taken =
                sendmmsg(fd_, headers.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
            sent += taken > 0 ? static_cast<std::size_t>(taken) : 0;
        }
        return sent;
    }
    for (const auto& message : messages) {
        pending_.insert(pending_.end(), message.begin(), message.end());
    }
    flush();
    return messages.size();
}

void ClientConnection::flush() {
    std::size_t written = 0;
    while (written < pending_.size()) {
        const std::size_t left = pending_.size() - written;
        ssize_t result = 0;
        if (ssl_ != nullptr) {
            result = SSL_write(ssl_, pending_.data() + written, static_cast<int>(left));
        } else {
            result = ::send(fd_, pending_.data() + written, left, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        if (result <= 0) {
            break;  // the kernel is full: the rest goes next time
        }
        written += static_cast<std::size_t>(result);
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(written));
}

bool ClientConnection::fill() {
    while (input_used_ < input_size) {
        ssize_t result = 0;
        if (ssl_ != nullptr) {
            result = SSL_read(ssl_, input_.get() + input_used_,
                              static_cast<int>(input_size - input_used_));
            if (result <= 0) {
                const int reason = SSL_get_error(ssl_, static_cast<int>(result));
                return reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE;
            }
        } else {
            result = ::recv(fd_, input_.get() + input_used_, input_size - input_used_, 0);
            if (result == 0) {
                return false;
            }
            if (result < 0) {
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            }
        }
        input_used_ += static_cast<std::size_t>(result);
    }
    return true;
}

}  // namespace hearth::load
