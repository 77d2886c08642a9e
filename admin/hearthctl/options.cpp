#include "admin/hearthctl/options.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <libconfig.h++>

#include "admin/hearthctl/commands.h"
#include "admin/hearthctl/exit_codes.h"
#include "admin/hearthctl/help.h"

namespace hearth::hearthctl {

namespace {

std::string first_line_or_empty(const std::string& path) {
    return first_line_of(path).value_or("");
}

[[noreturn]] void refuse_token_on_command_line() {
    usage_error(
        "--token is not taken: the command line is visible to every user (ps); give the token "
        "in HEARTH_ADMIN_TOKEN, with --token-file FILE, or in the config's admin.token_file");
}

// The admin group of the config file, read leniently: hearthctl needs only these keys.
void fill_from_config(Options& options) {
    libconfig::Config config;
    try {
        config.readFile(options.config.c_str());
    } catch (const std::exception&) {
        return;
    }
    const auto& root = config.getRoot();
    if (!root.exists("admin")) {
        return;
    }
    const auto& admin = root["admin"];
    std::string value;
    if (options.admin.empty() && admin.lookupValue("listen", value) && !value.empty()) {
        options.admin = value;
    }
    if (options.token.empty() && admin.lookupValue("token", value) && !value.empty()) {
        options.token = value;
    }
    if (options.token.empty() && admin.lookupValue("token_file", value) && !value.empty()) {
        options.token = first_line_or_empty(value);
    }
}

// CLI11's message on one line: the first, which says what was wrong.
std::string one_line(std::string message) {
    const auto end = message.find('\n');
    return end == std::string::npos ? message : message.substr(0, end);
}

// The global options, then each command of the table with its own.
void describe_command_line(CLI::App& app, Options& options) {
    app.name("hearthctl");
    app.description("the operator's command line of a hearth node (its admin API)");
    app.formatter(help_formatter());
    app.set_version_flag("--version", std::string("hearthctl ") + HEARTH_VERSION,
                         "print hearthctl's version (`hearthctl version` adds the node's)");
    app.fallthrough();
    app.require_subcommand(0, 1);
    app.add_option("--admin", options.admin,
                   "the node's admin API: HOST:PORT, [IPv6]:PORT or http(s)://HOST:PORT");
    app.add_option("--token-file", options.token_file,
                   "read the admin token from FILE's first line")
        ->type_name("FILE");
    app.add_option("--config", options.config,
                   "hearth.conf to take admin.listen and the token from")
        ->type_name("FILE");
    app.add_flag("--json", options.json, "print the API's JSON instead of tables");
    for (const auto& command : command_table()) {
        CLI::App* sub = app.add_subcommand(std::string(command.name), std::string(command.help));
        if (command.describe != nullptr) {
            command.describe(*sub, options);
        }
    }
    app.footer(where_address_and_token_come_from());  // after: subcommands would inherit it
}

}  // namespace

std::optional<std::string> first_line_of(const std::string& path) {
    std::ifstream file;
    if (path != "-") {
        file.open(path);
        if (!file) {
            return std::nullopt;
        }
    }
    std::istream& input = path == "-" ? std::cin : file;
    std::string text;
    if (!std::getline(input, text) && text.empty()) {
        return std::nullopt;
    }
    if (!text.empty() && text.back() == '\r') {
        text.pop_back();
    }
    return text;
}

Options parse_command_line(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == "--token" || argument.starts_with("--token=")) {
            refuse_token_on_command_line();
        }
    }
    Options options;
    CLI::App app;
    describe_command_line(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::fputs(app.help().c_str(), stdout);
        std::exit(exit_done);
    } catch (const CLI::CallForVersion&) {
        std::printf("hearthctl %s\n", HEARTH_VERSION);
        std::exit(exit_done);
    } catch (const CLI::ExtrasError& error) {
        if (app.get_subcommands().empty() && !app.remaining().empty()) {
            usage_error("unknown command '" + app.remaining().front() + "'");
        }
        usage_error(one_line(error.what()));
    } catch (const CLI::ParseError& error) {
        usage_error(one_line(error.what()));
    }
    for (const auto* command : app.get_subcommands()) {
        options.command = command->get_name();
    }
    if (options.command.empty()) {
        usage_error("a command is needed");
    }
    return options;
}

std::string usage_text() {
    Options options;
    CLI::App app;
    describe_command_line(app, options);
    return app.help();
}

std::string command_help_text(std::string_view name) {
    Options options;
    CLI::App app;
    describe_command_line(app, options);
    return app.get_subcommand(std::string(name))->help(app.get_name());
}

void fill_address_and_token(Options& options) {
    if (!options.token_file.empty()) {
        const auto token = first_line_of(options.token_file);
        if (!token || token->empty()) {
            usage_error("cannot read a token from --token-file " + options.token_file);
        }
        options.token = *token;
    }
    if (options.admin.empty() && std::getenv("HEARTH_ADMIN") != nullptr) {
        options.admin = std::getenv("HEARTH_ADMIN");
    }
    if (options.token.empty() && std::getenv("HEARTH_ADMIN_TOKEN") != nullptr) {
        options.token = std::getenv("HEARTH_ADMIN_TOKEN");
    }
    fill_from_config(options);
    if (options.admin.empty()) {
        options.admin = default_admin;
    }
    if (options.token.empty()) {
        options.token = first_line_or_empty(default_token_file);
    }
}

}  // namespace hearth::hearthctl
