// hearthctl: the operator's command line, a client of hearthd's admin API.
// Exit codes (exit_codes.h): 0 done, 1 the node said no (unknown session, refused), 2 bad
// usage, 3 no answer (node unreachable, bad token, an answer that is not HTTP or JSON).

#include "admin/hearthctl/commands.h"
#include "admin/hearthctl/options.h"

using namespace hearth::hearthctl;

int main(int argc, char** argv) {
    Options options = parse_command_line(argc, argv);
    fill_address_and_token(options);
    return find_command(options.command)->run(options);
}
