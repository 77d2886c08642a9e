// hearthctl's command table: what the command line, main's dispatch and the help are made
// from.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "admin/hearthctl/commands.h"
#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {
namespace {

TEST(HearthctlCommands, EachHasANameHelpAndAFunction) {
    ASSERT_FALSE(command_table().empty());
    for (const auto& command : command_table()) {
        EXPECT_FALSE(command.name.empty());
        EXPECT_FALSE(command.help.empty()) << command.name;
        EXPECT_EQ(command.help.find('\n'), std::string_view::npos) << command.name;
        EXPECT_NE(command.run, nullptr) << command.name;
    }
}

TEST(HearthctlCommands, NamesAreUniqueAndFound) {
    std::set<std::string_view> names;
    for (const auto& command : command_table()) {
        EXPECT_TRUE(names.insert(command.name).second) << command.name << " listed twice";
        EXPECT_EQ(find_command(command.name), &command);
    }
    EXPECT_EQ(find_command("frobnicate"), nullptr);
    EXPECT_EQ(find_command(""), nullptr);
    for (const char* added : {"version", "disconnect", "config", "log-level"}) {
        EXPECT_NE(find_command(added), nullptr) << added;
    }
}

TEST(HearthctlHelp, ListsEveryCommandWithItsHelp) {
    const std::string usage = usage_text();
    EXPECT_TRUE(usage.starts_with("usage: hearthctl [OPTIONS] COMMAND\n")) << usage;
    for (const auto& command : command_table()) {
        EXPECT_NE(usage.find("  " + std::string(command.name)), std::string::npos) << command.name;
        EXPECT_NE(usage.find(std::string(command.help).substr(0, 30)), std::string::npos)
            << command.name;
    }
    EXPECT_NE(usage.find("HEARTH_ADMIN_TOKEN"), std::string::npos);
    EXPECT_NE(usage.find("--version"), std::string::npos);
}

TEST(HearthctlHelp, OneCommandsHelpStartsWithItsUsageAndNamesItsOptions) {
    for (const auto& command : command_table()) {
        const std::string help = command_help_text(command.name);
        EXPECT_TRUE(help.starts_with("hearthctl " + std::string(command.name))) << help;
        EXPECT_NE(help.find(std::string(command.help).substr(0, 30)), std::string::npos) << help;
    }
    // The first line is the synopsis, which the bash completion reads flags from.
    EXPECT_TRUE(command_help_text("mint").starts_with(
        "hearthctl mint --session S --user U [--ttl SECONDS]\n"));
    EXPECT_TRUE(command_help_text("secrets").starts_with(
        "hearthctl secrets [list | add NAME [--value-file FILE] | retire NAME]\n"));
    EXPECT_TRUE(command_help_text("disconnect").starts_with("hearthctl disconnect ALLOCATION\n"));
    const std::string mint = command_help_text("mint");
    for (const char* option : {"--session", "--user", "--ttl", "SECONDS"}) {
        EXPECT_NE(mint.find(option), std::string::npos) << option << "\n" << mint;
    }
    EXPECT_NE(command_help_text("disconnect").find("ALLOCATION"), std::string::npos);
    EXPECT_EQ(command_help_text("secrets").find("VALUE"), std::string::npos);
}

}  // namespace
}  // namespace hearth::hearthctl
