// GET /v1/config and `hearthctl config` (admin/config_json.h): no secret's value ever
// appears, whichever section holds it.

#include "admin/config_json.h"

#include <gtest/gtest.h>

#include "admin/json.h"

namespace hearth::admin {
namespace {

TEST(ConfigJson, MasksEverySecret) {
    config::Config config;
    config.auth.secrets = {{"2026-01", "static-auth-secret-0123456789"},
                           {"2026-02", "second-auth-secret-0123456789"}};
    config.admin.token = "admin-token-0123456789abcdef";
    config.admin.read_only_token = "read-only-token-0123456789abcdef";
    config.session_store.redis.password = "redis-password-0123456789";
    const std::string text = config_as_json(config);
    for (const char* secret : {"static-auth-secret-0123456789", "second-auth-secret-0123456789",
                               "admin-token-0123456789abcdef", "read-only-token-0123456789abcdef",
                               "redis-password-0123456789"}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << secret;
    }
    auto json = parse_json(text);
    ASSERT_TRUE(json.has_value()) << text;
    EXPECT_EQ((*json)["admin"]["token"], "(set)");
    EXPECT_EQ((*json)["admin"]["read_only_token"], "(set)");
    EXPECT_EQ((*json)["session_store"]["redis"]["password"], "(set)");
    EXPECT_EQ((*json)["auth"]["secrets"],
              Json::parse(R"([{"name":"2026-01"},{"name":"2026-02"}])"));
}

TEST(ConfigJson, AnUnsetSecretIsEmpty) {
    config::Config config;
    config.admin.read_only_token.clear();
    auto json = parse_json(config_as_json(config));
    ASSERT_TRUE(json.has_value());
    EXPECT_EQ((*json)["admin"]["read_only_token"], "");
}

}  // namespace
}  // namespace hearth::admin
