#include "admin/hearthctl/options.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <libconfig.h++>

#include "admin/hearthctl/exit_codes.h"

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
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string argument = argv[i];
        if ((argument == "--help" || argument == "-h" || argument == "help") &&
            options.command.empty()) {
            options.usage_asked = true;
            return options;
        }
        if (argument == "--token" || argument.starts_with("--token=")) {
            refuse_token_on_command_line();
        }
        if (argument == "--json") {
            options.json = true;
        } else if (argument == "--admin" || argument == "--token-file" || argument == "--config") {
            if (i + 1 >= argc) {
                usage_error(argument + " needs a value");
            }
            (argument == "--admin"        ? options.admin
             : argument == "--token-file" ? options.token_file
                                          : options.config) = argv[++i];
        } else if (argument.starts_with("--") && options.command.empty()) {
            usage_error("unknown flag '" + argument + "'");
        } else if (options.command.empty()) {
            options.command = argument;
        } else {
            options.arguments.push_back(argument);
        }
    }
    return options;
}

bool asks_for_help(const std::vector<std::string>& arguments) {
    return std::ranges::find(arguments, "--help") != arguments.end() ||
           std::ranges::find(arguments, "-h") != arguments.end();
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

std::map<std::string, std::string> command_flags(const std::vector<std::string>& arguments,
                                                 std::initializer_list<const char*> allowed,
                                                 std::vector<std::string>* positional) {
    std::map<std::string, std::string> flags;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (!argument.starts_with("--")) {
            if (positional == nullptr) {
                usage_error("unexpected argument '" + argument + "'");
            }
            positional->push_back(argument);
            continue;
        }
        const std::string name = argument.substr(2);
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            usage_error("unknown flag '" + argument + "'");
        }
        if (i + 1 >= arguments.size()) {
            usage_error(argument + " needs a value");
        }
        flags[name] = arguments[++i];
    }
    return flags;
}

}  // namespace hearth::hearthctl
