#pragma once

// hearthctl's command line: the global options before the command, the flags after it,
// and where the node's address and token come from. Secrets never come from the command
// line, which every user of the host can read (ps, /proc/PID/cmdline): the token comes
// from a file or the environment, a secret's value from stdin or a file.

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hearth::hearthctl {

inline constexpr const char* default_admin = "127.0.0.1:9478";
inline constexpr const char* default_config = "/etc/hearth/hearth.conf";
inline constexpr const char* default_token_file = "/run/hearth/admin.token";

struct Options {
    std::string admin;       // HOST:PORT of the node's admin API
    std::string token_file;  // --token-file
    std::string token;       // never from argv: see fill_address_and_token
    std::string config = default_config;
    bool json = false;  // print the API's JSON instead of tables
    bool usage_asked = false;
    std::string command;
    std::vector<std::string> arguments;  // everything after the command
};

// Reads argv; exits with exit_bad_usage on an unknown option or one missing its value, and
// on --token, which would show the token to every user of the host.
// Stops at --help, -h or help before the command, with usage_asked set.
Options parse_command_line(int argc, char** argv);

// Whether the command's own arguments ask for its help.
bool asks_for_help(const std::vector<std::string>& arguments);

// The address: --admin, HEARTH_ADMIN, the config file's admin.listen, default_admin. The
// token: the first line of --token-file, HEARTH_ADMIN_TOKEN, the config file's admin.token
// or the first line of its admin.token_file, then of default_token_file. Exits with
// exit_bad_usage when --token-file cannot be read.
void fill_address_and_token(Options& options);

// The first line of `path`, or of stdin for "-" (without its line end); nullopt when it
// cannot be read.
std::optional<std::string> first_line_of(const std::string& path);

// The --name VALUE flags among a command's arguments; only names in `allowed` are taken.
// Other words go to `positional`, and are a usage error when it is null.
std::map<std::string, std::string> command_flags(const std::vector<std::string>& arguments,
                                                 std::initializer_list<const char*> allowed,
                                                 std::vector<std::string>* positional = nullptr);

}  // namespace hearth::hearthctl
