#pragma once

// hearthctl's help, written from the command table.

#include <string>

#include "admin/hearthctl/commands.h"

namespace hearth::hearthctl {

// `hearthctl --help`: the global options, every command, where the address and token
// come from.
std::string usage_text();

// `hearthctl COMMAND --help`.
std::string command_help_text(const Command& command);

}  // namespace hearth::hearthctl
