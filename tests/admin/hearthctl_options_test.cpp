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
