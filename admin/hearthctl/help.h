#pragma once

// How hearthctl's help reads: CLI11 writes it from the command table and each command's
// options; this puts "hearthctl COMMAND ..." first and says where the address and token
// come from.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace hearth::hearthctl {

// The formatter for `hearthctl --help` and `hearthctl COMMAND --help`: the usage line
// first ("hearthctl mint --session S ..."), then the description, options, commands.
std::shared_ptr<CLI::Formatter> help_formatter();

// The footer of `hearthctl --help`.
std::string where_address_and_token_come_from();

}  // namespace hearth::hearthctl
