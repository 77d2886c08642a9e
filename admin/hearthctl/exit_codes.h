#pragma once

// hearthctl's exit codes, which operators' scripts act on (README, "hearthctl"), and the
// ways it stops before a command is done. Each error is one line on stderr.

#include <string>

namespace hearth::hearthctl {

inline constexpr int exit_done = 0;
inline constexpr int exit_refused = 1;  // the node said no: unknown session, config refused
inline constexpr int exit_bad_usage = 2;
// The node could not be asked (unreachable, refused the token), or its answer could not be
// read (not HTTP, not JSON): either way nothing is known of what it did.
inline constexpr int exit_no_answer = 3;

// "hearthctl: <message> (try hearthctl --help)" on stderr, then exit_bad_usage.
[[noreturn]] void usage_error(const std::string& message);

// "hearthctl: <message>" on stderr, then exit_no_answer: the node is unreachable or refused
// the token.
[[noreturn]] void node_error(const std::string& message);

// "hearthctl: <message>" on stderr, then exit_no_answer: the answer is not HTTP or not JSON.
[[noreturn]] void unreadable_answer(const std::string& message);

}  // namespace hearth::hearthctl
