#include "admin/hearthctl/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "admin/hearthctl/exit_codes.h"
#include "relay/stun/transport_address.h"

namespace hearth::hearthctl {

namespace {

constexpr int timeout_seconds = 10;
// No admin answer comes near this; past it the rest is not read.
constexpr std::size_t max_answer_bytes = 64 * 1024 * 1024;

int connect_to(const std::string& admin) {
    const auto address = TransportAddress::parse(admin);
    if (!address) {
        usage_error("admin address '" + admin + "' is not HOST:PORT");
    }
    sockaddr_storage storage;
    const socklen_t length = address->to_sockaddr(storage);
    const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{timeout_seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        node_error("node unreachable at " + admin + " (is hearthd running?)");
    }
    return fd;
}

std::string read_to_end(int fd) {
    std::string answer;
    char buffer[16384];
    for (;;) {
        const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
        if (received <= 0) {
            break;
        }
        answer.append(buffer, static_cast<std::size_t>(received));
        if (answer.size() > max_answer_bytes) {
            break;
        }
    }
    return answer;
}

}  // namespace

Response ask_node(const Options& options, const std::string& method, const std::string& target,
                  const std::string& form) {
    const int fd = connect_to(options.admin);
    std::string request = method + " " + target + " HTTP/1.0\r\nHost: " + options.admin +
                          "\r\nAuthorization: Bearer " + options.token + "\r\n";
    if (!form.empty()) {
        request += "Content-Type: application/x-www-form-urlencoded\r\n";
    }
    request += "Content-Length: " + std::to_string(form.size()) + "\r\n\r\n" + form;
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        ::close(fd);
        node_error("node unreachable at " + options.admin);
    }
    const std::string answer = read_to_end(fd);
    ::close(fd);
    if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) {
        node_error("no HTTP answer from " + options.admin);
    }
    Response response;
    response.status = std::atoi(answer.c_str() + 9);  // after "HTTP/1.x "
    const auto body = answer.find("\r\n\r\n");
    response.body = body == std::string::npos ? "" : answer.substr(body + 4);
    if (response.status == 401) {
        node_error("bad admin token (set HEARTH_ADMIN_TOKEN, --token-file or admin.token_file)");
    }
    return response;
}

std::string url_encode(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@') {
            out += static_cast<char>(c);
        } else {
            char buffer[4];
            std::snprintf(buffer, sizeof buffer, "%%%02X", c);
            out += buffer;
        }
    }
    return out;
}

}  // namespace hearth::hearthctl
