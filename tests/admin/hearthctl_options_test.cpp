// hearthctl's command line never carries a secret (issue 17): every user of the host can
// read it (ps, /proc/PID/cmdline).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "admin/hearthctl/options.h"

namespace hearth::hearthctl {
namespace {

Options parse(std::vector<std::string> arguments) {
    std::vector<char*> argv;
    for (auto& argument : arguments) {
        argv.push_back(argument.data());
    }
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(HearthctlOptions, RefusesATokenOnTheCommandLine) {
    for (const auto& arguments : std::vector<std::vector<std::string>>{
             {"hearthctl", "--token", "secret-token-0123456789", "status"},
             {"hearthctl", "--token=secret-token-0123456789", "status"},
             {"hearthctl", "status", "--token", "secret-token-0123456789"}}) {
        EXPECT_EXIT(parse(arguments), ::testing::ExitedWithCode(2),
                    "--token is not taken.*HEARTH_ADMIN_TOKEN")
            << arguments[1];
    }
}

class TokenFile : public ::testing::Test {
  protected:
    void SetUp() override {
        char name[] = "/tmp/hearthctl-token-XXXXXX";
        const int fd = mkstemp(name);
        ASSERT_GE(fd, 0);
        close(fd);
        path_ = name;
        unsetenv("HEARTH_ADMIN_TOKEN");
    }
    void TearDown() override { std::remove(path_.c_str()); }
    void write(const std::string& text) { std::ofstream(path_) << text; }
    std::string path_;
};

TEST_F(TokenFile, TheTokenComesFromItsFirstLine) {
    write("token-from-a-file-0123456789\r\nsecond line\n");
    Options options =
        parse({"hearthctl", "--token-file", path_, "--config", "/nonexistent", "status"});
    EXPECT_EQ(options.token, "");
    fill_address_and_token(options);
    EXPECT_EQ(options.token, "token-from-a-file-0123456789");
}

TEST_F(TokenFile, BeforeTheEnvironment) {
    write("token-from-a-file-0123456789\n");
    setenv("HEARTH_ADMIN_TOKEN", "token-from-the-environment", 1);
    Options options =
        parse({"hearthctl", "--token-file", path_, "--config", "/nonexistent", "status"});
    fill_address_and_token(options);
    EXPECT_EQ(options.token, "token-from-a-file-0123456789");
    options = parse({"hearthctl", "--config", "/nonexistent", "status"});
    fill_address_and_token(options);
    EXPECT_EQ(options.token, "token-from-the-environment");
    unsetenv("HEARTH_ADMIN_TOKEN");
}

TEST_F(TokenFile, AnEmptyOrMissingOneIsAUsageError) {
    write("");
    Options options = parse({"hearthctl", "--token-file", path_, "status"});
    EXPECT_EXIT(fill_address_and_token(options), ::testing::ExitedWithCode(2), "--token-file");
    options = parse({"hearthctl", "--token-file", "/nonexistent/token", "status"});
    EXPECT_EXIT(fill_address_and_token(options), ::testing::ExitedWithCode(2), "--token-file");
}

}  // namespace
}  // namespace hearth::hearthctl

namespace hearth::hearthctl {
namespace {

TEST(HearthctlOptions, CommandsGetTheirTypedArguments) {
    Options options = parse(
        {"hearthctl", "--json", "mint", "--session", "s1", "--user", "alice", "--ttl", "600"});
    EXPECT_EQ(options.command, "mint");
    EXPECT_TRUE(options.json);
    EXPECT_EQ(options.session, "s1");
    EXPECT_EQ(options.user, "alice");
    EXPECT_EQ(options.ttl, 600);
    options = parse({"hearthctl", "disconnect", "281474976710657"});
    EXPECT_EQ(options.allocation, 281474976710657u);
    options = parse({"hearthctl", "log-level", "debug", "--admin", "localhost:9478"});
    EXPECT_EQ(options.name, "debug");
    EXPECT_EQ(options.admin, "localhost:9478");
    options = parse({"hearthctl", "secrets", "retire", "2026-01"});
    EXPECT_EQ(options.secrets_action, "retire");
    EXPECT_EQ(options.name, "2026-01");
    EXPECT_EQ(parse({"hearthctl", "secrets"}).secrets_action, "list");
    EXPECT_TRUE(parse({"hearthctl", "status", "--all"}).all);
    EXPECT_TRUE(parse({"hearthctl", "top", "--once"}).once);
}

TEST(HearthctlOptions, UsageErrorsExitTwoWithOneLine) {
    for (const auto& arguments : std::vector<std::vector<std::string>>{
             {"hearthctl"},
             {"hearthctl", "frobnicate"},
             {"hearthctl", "allocations", "--sesion", "s1"},
             {"hearthctl", "mint", "--session", "s1"},
             {"hearthctl", "mint", "--session", "s1", "--user", "u", "--ttl", "0"},
             {"hearthctl", "mint", "--session", "s1", "--user", "u", "--ttl", "86401"},
             {"hearthctl", "mint", "--session", "s1", "--user", "u", "--ttl", "ten"},
             {"hearthctl", "drain", "--deadline", "-5"},
             {"hearthctl", "disconnect"},
             {"hearthctl", "disconnect", "abc"},
             {"hearthctl", "disconnect", "0"},
             {"hearthctl", "log-level", "loud"},
             {"hearthctl", "revoke"},
             {"hearthctl", "sessions", "extra"}}) {
        EXPECT_EXIT(parse(arguments), ::testing::ExitedWithCode(2),
                    "^hearthctl: [^\n]*\\(try hearthctl --help\\)\n$")
            << arguments.back();
    }
}

TEST(HearthctlOptions, AnUnknownCommandIsNamed) {
    EXPECT_EXIT(parse({"hearthctl", "--json", "frobnicate", "now"}), ::testing::ExitedWithCode(2),
                "^hearthctl: unknown command 'frobnicate' \\(try hearthctl --help\\)\n$");
}

TEST(HearthctlOptions, VersionExitsZero) {
    EXPECT_EXIT(parse({"hearthctl", "--version"}), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace hearth::hearthctl
