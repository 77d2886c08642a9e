// hearthctl's command table: what main dispatches on and what its help is written from.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "admin/hearthctl/commands.h"
#include "admin/hearthctl/help.h"

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
}

TEST(HearthctlHelp, ComesFromTheTable) {
    const std::string usage = usage_text();
    for (const auto& command : command_table()) {
        const std::string help = command_help_text(command);
        EXPECT_TRUE(help.starts_with("hearthctl " + std::string(command.name))) << help;
        EXPECT_NE(help.find(command.help), std::string::npos) << help;
        EXPECT_NE(usage.find("  " + std::string(command.name)), std::string::npos) << command.name;
        EXPECT_NE(usage.find(command.help), std::string::npos) << command.name;
    }
}

TEST(HearthctlHelp, ShowsACommandsArgumentsAfterItsName) {
    const Command* mint = find_command("mint");
    ASSERT_NE(mint, nullptr);
    EXPECT_EQ(command_help_text(*mint),
              "hearthctl mint --session S --user U [--ttl SECONDS]\n"
              "  a credential as RTCIceServer JSON, after checking the session\n");
    const Command* sessions = find_command("sessions");
    ASSERT_NE(sessions, nullptr);
    EXPECT_TRUE(command_help_text(*sessions).starts_with("hearthctl sessions\n"));
}

}  // namespace
}  // namespace hearth::hearthctl
