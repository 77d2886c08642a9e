#pragma once

// hearthctl's commands: the one table that main dispatches on and that the usage text
// and `hearthctl COMMAND --help` are written from.

#include <span>
#include <string_view>

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

struct Command {
    std::string_view name;
    std::string_view arguments;          // what follows the name, as the usage shows it
    std::string_view help;               // one line
    int (*run)(const Options& options);  // returns the exit code
};

std::span<const Command> command_table();

// The command called `name`, or null.
const Command* find_command(std::string_view name);

}  // namespace hearth::hearthctl
