#pragma once

// hearthctl's exit codes, which operators' scripts act on (README, "hearthctl"), and the
// two ways it stops before a command is done.

#include <string>

namespace hearth::hearthctl {

inline constexpr int exit_done = 0;
inline constexpr int exit_refused = 1;  // the node said no: unknown session, config refused
inline constexpr int exit_bad_usage = 2;
inline constexpr int exit_node_unreachable = 3;  // or it refused the token

// "hearthctl: <message> (try hearthctl --help)" on stderr, then exit_bad_usage.
[[noreturn]] void usage_error(const std::string& message);

// "hearthctl: <message>" on stderr, then exit_node_unreachable.
[[noreturn]] void node_error(const std::string& message);

}  // namespace hearth::hearthctl
