#pragma once

// hearthctl's commands: the one table that the command line (CLI11), main's dispatch and
// the help are made from.

#include <span>
#include <string_view>

#include "admin/hearthctl/options.h"

namespace CLI {
class App;
}

namespace hearth::hearthctl {

struct Command {
    std::string_view name;
    std::string_view help;                                  // one line
    void (*describe)(CLI::App& command, Options& options);  // its own options; may be null
    int (*run)(const Options& options);                     // returns the exit code
};

std::span<const Command> command_table();

// The command called `name`, or null.
const Command* find_command(std::string_view name);

}  // namespace hearth::hearthctl
