#include "admin/hearthctl/help.h"

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

namespace {

class HelpFormatter : public CLI::Formatter {
  public:
    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode mode) const override {
        std::string usage = make_usage(app, std::move(name));
        if (const std::string prefix = "Usage: "; usage.starts_with(prefix)) {
            usage.erase(0, prefix.size());
        }
        return usage + "  " + app->get_description() + "\n" + make_groups(app, mode) +
               make_subcommands(app, mode) + make_footer(app);
    }
};

}  // namespace

std::shared_ptr<CLI::Formatter> help_formatter() {
    auto formatter = std::make_shared<HelpFormatter>();
    formatter->column_width(34);
    return formatter;
}

std::string where_address_and_token_come_from() {
    return std::string("hearthctl COMMAND --help explains one command.\n") +
           "The admin address and token come from the flags, then HEARTH_ADMIN and\n" +
           "HEARTH_ADMIN_TOKEN, then the config file's admin group (default " + default_config +
           "),\nthen " + default_admin + " and the token in " + default_token_file + ".\n" +
           "Tokens and secrets are never taken on the command line, which every user can\n" +
           "read (ps): --token is refused.\n" +
           "Exit codes: 0 done, 1 refused by the node, 2 bad usage, 3 no answer (node\n" +
           "unreachable, token refused, or an answer that is not HTTP or not JSON).\n";
}

}  // namespace hearth::hearthctl
