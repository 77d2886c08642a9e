#include "admin/hearthctl/help.h"

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {

namespace {

// "--ttl SECONDS" or "SESSION", in brackets when it may be left out; "" for help and hidden
// options.
std::string option_synopsis(const CLI::App* app, const CLI::Option* option) {
    if (option == app->get_help_ptr() || option->get_group().empty()) {
        return "";
    }
    std::string word = option->get_name(option->get_positional());
    if (!option->get_positional() && option->get_type_size() != 0) {
        const std::string type = option->get_type_name();
        word += " " + type.substr(0, type.find(':'));  // without the validators' words
    }
    return option->get_required() ? word : "[" + word + "]";
}

// A command's one-line synopsis, its own commands' after it: "hearthctl mint --session S
// --user U [--ttl SECONDS]", "hearthctl secrets [list | add NAME [--value-file FILE] |
// retire NAME]". The bash completion reads a command's flags from this line.
std::string synopsis(const CLI::App* app, std::string text) {
    for (const CLI::Option* option : app->get_options()) {
        if (const std::string word = option_synopsis(app, option); !word.empty()) {
            text += " " + word;
        }
    }
    const auto commands = app->get_subcommands([](const CLI::App*) { return true; });
    if (!commands.empty()) {
        std::string choices;
        for (const CLI::App* command : commands) {
            choices += (choices.empty() ? "" : " | ") + synopsis(command, command->get_name());
        }
        text += " [" + choices + "]";
    }
    return text;
}

class HelpFormatter : public CLI::Formatter {
  public:
    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode mode) const override {
        // The top level's commands are listed below it, two spaces before each name (which
        // the bash completion reads); its description is not indented, so as not to read as
        // one of them.
        if (app->get_parent() == nullptr) {
            return "usage: " + name + " [OPTIONS] COMMAND\n" + app->get_description() + "\n" +
                   make_groups(app, mode) + make_subcommands(app, mode) + make_footer(app);
        }
        return synopsis(app, name) + "\n  " + app->get_description() + "\n" +
               make_groups(app, mode) + make_footer(app);
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
