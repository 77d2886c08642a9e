#include "admin/hearthctl/admin_address.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace hearth::hearthctl {

namespace {

// A DNS name or an IPv4 literal: letters, digits, '-' and '.' (RFC 1123 §2.1).
bool plain_host(std::string_view host) {
    if (host.empty() || host.size() > 253) {
        return false;
    }
    for (const char c : host) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}

bool ipv6_literal(std::string_view inside_brackets) {
    in6_addr address{};
    return inet_pton(AF_INET6, std::string(inside_brackets).c_str(), &address) == 1;
}

std::optional<unsigned> port_number(std::string_view text) {
    unsigned port = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || port == 0 ||
        port > 65535) {
        return std::nullopt;
    }
    return port;
}

}  // namespace

std::optional<AdminAddress> parse_admin_address(std::string_view text, std::string& why) {
    const std::string original(text);
    AdminAddress address{"http", "", 0};
    if (const auto scheme_end = text.find("://"); scheme_end != std::string_view::npos) {
        address.scheme = std::string(text.substr(0, scheme_end));
        if (address.scheme != "http" && address.scheme != "https") {
            why = "admin address '" + original + "': only http:// and https:// are spoken";
            return std::nullopt;
        }
        text.remove_prefix(scheme_end + 3);
        if (text.ends_with('/')) {
            text.remove_suffix(1);
        }
    }
    const auto colon = text.rfind(':');
    const std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
    const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
    const auto port =
        colon == std::string_view::npos ? std::nullopt : port_number(text.substr(colon + 1));
    if (!port || !(bracketed ? ipv6_literal(host.substr(1, host.size() - 2)) : plain_host(host))) {
        why =
            "admin address '" + original + "' is not HOST:PORT, [IPv6]:PORT or http(s)://HOST:PORT";
        return std::nullopt;
    }
    address.host = std::string(host);
    address.port = *port;
    return address;
}

}  // namespace hearth::hearthctl
