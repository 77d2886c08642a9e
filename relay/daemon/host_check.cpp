#include "relay/daemon/host_check.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <tuple>

#include "relay/net/address_in_use.h"
#include "relay/net/socket_options.h"

namespace hearth::relay {

namespace {

void check_listeners(const config::Config& config, std::vector<std::string>& problems) {
    std::vector<std::tuple<const char*, TransportAddress, int>> wanted;
    for (const auto& address : config.listen.udp) {
        wanted.emplace_back("listen.udp", address, SOCK_DGRAM);
    }
    for (const auto& address : config.listen.tcp) {
        wanted.emplace_back("listen.tcp", address, SOCK_STREAM);
    }
    for (const auto& address : config.listen.tls) {
        wanted.emplace_back("listen.tls", address, SOCK_STREAM);
    }
    for (const auto& address : config.listen.mux) {
        wanted.emplace_back("listen.mux", address, SOCK_STREAM);
    }
    if (config.admin.listen) {
        wanted.emplace_back("admin.listen", *config.admin.listen, SOCK_STREAM);
    }
    for (const auto& [key, address, type] : wanted) {
        if (const auto why = address_in_use(address, type)) {
            const bool held = why->starts_with("already in use");
            problems.push_back("cannot listen on " + address.to_string() + " (" + key +
                               "): " + *why + (held ? "; is another hearthd running?" : ""));
        }
    }
}

// Mostly a cloud VM's public address, which it does not have: a 1:1 NAT maps it.
std::string not_ours_hint(std::string_view key) {
    const std::string external =
        key == "relay.ipv4" ? "relay.external_ipv4" : "relay.external_ipv6";
    std::string hint = " (not an address of this host; behind a 1:1 NAT, set ";
    hint += key;
    hint += " to the private address and " + external + " to the public one)";
    return hint;
}

// A relayed address's port is drawn per allocation, so only the address is tried: one
// the host does not have would fail every Allocate with 508.
void check_relay_addresses(const config::Config& config, std::vector<std::string>& problems) {
    for (const auto& [key, address] :
         {std::pair{"relay.ipv4", config.relay.ipv4}, std::pair{"relay.ipv6", config.relay.ipv6}}) {
        if (!address) {
            continue;
        }
        const int fd = open_socket(address->family, SOCK_DGRAM, PortSharing::exclusive);
        if (fd < 0) {
            problems.push_back(std::string(key) + ": socket: " + std::strerror(errno));
            continue;
        }
        const bool bound = bind_to(fd, TransportAddress{*address, 0});
        const int error = errno;
        ::close(fd);
        if (!bound) {
            problems.push_back("cannot relay from " + address->to_string() + " (" + key +
                               "): " + std::strerror(error) +
                               (error == EADDRNOTAVAIL ? not_ours_hint(key) : ""));
        }
    }
}

}  // namespace

std::vector<std::string> address_problems(const config::Config& config) {
    std::vector<std::string> problems;
    check_listeners(config, problems);
    check_relay_addresses(config, problems);
    return problems;
}

std::optional<SslContextPointer> load_tls_context(const config::Config& config,
                                                  std::string& problem) {
    if (!config.serves_tls()) {
        return SslContextPointer{};
    }
    std::string error;
    auto context = make_server_tls_context(config.tls.certificate, config.tls.private_key, error);
    if (!context) {
        problem = "cannot load the TLS certificate (tls.certificate, tls.private_key): " + error;
        return std::nullopt;
    }
    return context;
}

std::vector<std::string> host_problems(const config::Config& config) {
    auto problems = address_problems(config);
    if (std::string problem; !load_tls_context(config, problem)) {
        problems.push_back(problem);
    }
    return problems;
}

}  // namespace hearth::relay
