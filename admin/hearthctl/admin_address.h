#pragma once

// Where hearthctl finds the node's admin API: "host:port", "[v6]:port", or a URL
// "http://host:port" / "https://host:port", the host a name or an IP literal.

#include <optional>
#include <string>
#include <string_view>

namespace hearth::hearthctl {

struct AdminAddress {
    std::string scheme;  // "http" or "https"
    std::string host;    // a name, an IPv4 literal, or an IPv6 literal in brackets
    unsigned port = 0;

    // "scheme://host:port", what requests' paths are appended to.
    std::string url() const { return scheme + "://" + host + ":" + std::to_string(port); }
};

// The address `text` names, or nullopt with `why` set to a one-line reason.
std::optional<AdminAddress> parse_admin_address(std::string_view text, std::string& why);

}  // namespace hearth::hearthctl
