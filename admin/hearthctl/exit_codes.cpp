#include "admin/hearthctl/exit_codes.h"

#include <cstdio>
#include <cstdlib>

namespace hearth::hearthctl {

void usage_error(const std::string& message) {
    std::fprintf(stderr, "hearthctl: %s (try hearthctl --help)\n", message.c_str());
    std::exit(exit_bad_usage);
}

void node_error(const std::string& message) {
    std::fprintf(stderr, "hearthctl: %s\n", message.c_str());
    std::exit(exit_no_answer);
}

void unreadable_answer(const std::string& message) {
    std::fprintf(stderr, "hearthctl: %s\n", message.c_str());
    std::exit(exit_no_answer);
}

}  // namespace hearth::hearthctl
