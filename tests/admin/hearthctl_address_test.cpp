// Where hearthctl finds the node: host names, IP literals and URLs (issue 20).

#include <gtest/gtest.h>

#include "admin/hearthctl/admin_address.h"

namespace hearth::hearthctl {
namespace {

std::string url_of(const char* text) {
    std::string why;
    const auto address = parse_admin_address(text, why);
    return address ? address->url() : "refused: " + why;
}

TEST(HearthctlAddress, TakesHostNamesIpLiteralsAndUrls) {
    EXPECT_EQ(url_of("127.0.0.1:9478"), "http://127.0.0.1:9478");
    EXPECT_EQ(url_of("localhost:9478"), "http://localhost:9478");
    EXPECT_EQ(url_of("turn-1.example.net:9478"), "http://turn-1.example.net:9478");
    EXPECT_EQ(url_of("[::1]:9478"), "http://[::1]:9478");
    EXPECT_EQ(url_of("[2001:db8::7]:443"), "http://[2001:db8::7]:443");
    EXPECT_EQ(url_of("http://127.0.0.1:9478"), "http://127.0.0.1:9478");
    EXPECT_EQ(url_of("http://localhost:9478/"), "http://localhost:9478");
    EXPECT_EQ(url_of("https://admin.example.net:8443"), "https://admin.example.net:8443");
    EXPECT_EQ(url_of("https://[::1]:8443"), "https://[::1]:8443");
}

TEST(HearthctlAddress, RefusesWhatIsNoAddressWithAOneLineReason) {
    for (const char* text :
         {"", "localhost", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
          "127.0.0.1:94x", "::1:9478", "[::1]", "[not-v6]:9478", "[]:9478", "ftp://host:21",
          "http://", "http://host", "host name:9478", "host/path:9478", ":9478"}) {
        std::string why;
        EXPECT_FALSE(parse_admin_address(text, why).has_value()) << text;
        EXPECT_NE(why.find("admin address"), std::string::npos) << text;
        EXPECT_EQ(why.find('\n'), std::string::npos) << text;
    }
}

}  // namespace
}  // namespace hearth::hearthctl
