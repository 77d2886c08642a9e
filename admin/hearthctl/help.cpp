#include "admin/hearthctl/help.h"

namespace hearth::hearthctl {

namespace {

std::string synopsis(const Command& command) {
    std::string text(command.name);
    if (!command.arguments.empty()) {
        text += ' ';
        text += command.arguments;
    }
    return text;
}

}  // namespace

std::string usage_text() {
    std::string text =
        "usage: hearthctl [--admin HOST:PORT] [--token-file FILE] [--config FILE] [--json] "
        "COMMAND\n"
        "commands:\n";
    for (const auto& command : command_table()) {
        text += "  " + synopsis(command) + "\n      " + std::string(command.help) + "\n";
    }
    text += "hearthctl COMMAND --help prints one of these.\n";
    text += "The admin address and token come from the flags, then HEARTH_ADMIN and\n";
    text += "HEARTH_ADMIN_TOKEN, then the config file's admin group (default ";
    text += std::string(default_config) + "),\nthen " + default_admin + " and the token in " +
            default_token_file + ".\n";
    text += "Tokens and secrets are never taken on the command line, which every user can\n";
    text += "read (ps): --token is refused.\n";
    return text;
}

std::string command_help_text(const Command& command) {
    return "hearthctl " + synopsis(command) + "\n  " + std::string(command.help) + "\n";
}

}  // namespace hearth::hearthctl
