#include "relay/net/socket_options.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hearth::relay {

int open_socket(AddressFamily family, int type, PortSharing sharing) {
    const int domain = family == AddressFamily::ipv4 ? AF_INET : AF_INET6;
    const int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    const int on = 1;
    if (sharing == PortSharing::shared) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    }
    if (domain == AF_INET6) {
        // "[::]:3478" and "0.0.0.0:3478" are two listeners, never one that takes both.
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    return fd;
}

bool bind_to(int fd, const TransportAddress& address) {
    sockaddr_storage storage;
    const socklen_t length = address.to_sockaddr(storage);
    return bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) == 0;
}

int open_bound_socket(const TransportAddress& address, int type, std::string& error) {
    const int fd = open_socket(address.ip.family, type, PortSharing::shared);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    if (!bind_to(fd, address)) {
        error = "bind " + address.to_string() + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace hearth::relay
