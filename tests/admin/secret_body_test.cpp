#include "admin/secret_body.h"

#include <gtest/gtest.h>

namespace hearth::admin {
namespace {

TEST(SecretBody, ANameAndAValueInJsonAreTaken) {
    const auto parsed = parse_secret_body(R"({"name":"2026-12","value":"0123456789abcdef0123"})");
    ASSERT_TRUE(std::holds_alternative<SecretToAdd>(parsed));
    EXPECT_EQ(std::get<SecretToAdd>(parsed).name, "2026-12");
    EXPECT_EQ(std::get<SecretToAdd>(parsed).value, "0123456789abcdef0123");
}

TEST(SecretBody, WhatIsNotSuchAnObjectIsRefusedWithoutEchoingTheValue) {
    for (const char* body : {"", "name=a&value=0123456789abcdef0123", "[]", "{", R"({"name":"a"})",
                             R"({"name":"a","value":12345678901234567})",
                             R"({"name":"a b","value":"0123456789abcdef0123"})",
                             R"({"name":"","value":"0123456789abcdef0123"})",
                             R"({"name":"a","value":"short-secret"})"}) {
        const auto parsed = parse_secret_body(body);
        ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << body;
        EXPECT_EQ(std::get<std::string>(parsed).find("0123456789abcdef"), std::string::npos);
        EXPECT_EQ(std::get<std::string>(parsed).find("short-secret"), std::string::npos);
    }
}

}  // namespace
}  // namespace hearth::admin
