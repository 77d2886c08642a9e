#pragma once

// hearthctl's command line, read by CLI11: the global options, the command and its own
// typed, range-checked options, and where the node's address and token come from.
// Secrets never come from the command line, which every user of the host can read (ps,
// /proc/PID/cmdline): the token comes from a file or the environment, a secret's value
// from stdin or a file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::hearthctl {

inline constexpr const char* default_admin = "127.0.0.1:9478";
inline constexpr const char* default_config = "/etc/hearth/hearth.conf";
inline constexpr const char* default_token_file = "/run/hearth/admin.token";

struct Options {
    std::string admin;       // HOST:PORT or http(s)://HOST:PORT of the node's admin API
    std::string token_file;  // --token-file
    std::string token;       // never from argv: see fill_address_and_token
    std::string config = default_config;
    bool json = false;  // print the API's JSON instead of tables
    std::string command;

    // The command's own arguments; which a command takes is in its entry of the table.
    std::string session;     // --session, or revoke's and record's SESSION
    std::string user;        // --user
    std::string name;        // secrets add/retire NAME, log-level LEVEL
    std::string value_file;  // secrets add --value-file
    std::string secrets_action = "list";
    std::string value_on_command_line;  // secrets add NAME VALUE: refused, never shown
    std::int64_t ttl = 0;               // mint --ttl; 0: the node's default
    std::int64_t deadline = 0;          // drain --deadline; 0: none
    std::uint64_t allocation = 0;       // disconnect ALLOCATION
    bool all = false;                   // status --all
    bool once = false;                  // top --once
};

// Reads argv. Prints the help (--help, -h, COMMAND --help) or the version (--version) and
// exits 0; exits with exit_bad_usage, after one line on stderr, on a usage error and on
// --token, which would show the token to every user of the host.
Options parse_command_line(int argc, char** argv);

// `hearthctl --help`, and `hearthctl COMMAND --help` for the command called `name`.
std::string usage_text();
std::string command_help_text(std::string_view name);

// The address: --admin, HEARTH_ADMIN, the config file's admin.listen, default_admin. The
// token: the first line of --token-file, HEARTH_ADMIN_TOKEN, the config file's admin.token
// or the first line of its admin.token_file, then of default_token_file. Exits with
// exit_bad_usage when --token-file cannot be read.
void fill_address_and_token(Options& options);

// The first line of `path`, or of stdin for "-" (without its line end); nullopt when it
// cannot be read.
std::optional<std::string> first_line_of(const std::string& path);

}  // namespace hearth::hearthctl
