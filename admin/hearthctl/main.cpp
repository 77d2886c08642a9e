// hearthctl: the operator's command line, a client of hearthd's admin API.
// Exit codes: 0 done, 1 the node said no (unknown session, refused), 2 bad usage,
// 3 node unreachable or bad token.

#include <cstdio>

#include "admin/hearthctl/commands.h"
#include "admin/hearthctl/exit_codes.h"
#include "admin/hearthctl/help.h"
#include "admin/hearthctl/options.h"

using namespace hearth::hearthctl;

int main(int argc, char** argv) {
    Options options = parse_command_line(argc, argv);
    if (options.usage_asked) {
        std::fputs(usage_text().c_str(), stdout);
        return exit_done;
    }
    if (options.command.empty()) {
        usage_error("a command is needed");
    }
    const Command* command = find_command(options.command);
    if (command == nullptr) {
        usage_error("unknown command '" + options.command + "'");
    }
    if (asks_for_help(options.arguments)) {
        std::fputs(command_help_text(*command).c_str(), stdout);
        return exit_done;
    }
    fill_address_and_token(options);
    return command->run(options);
}
