// The admin API's JSON (admin/json.h): what the hand-written reader and writer got wrong
// (issue 20) now holds.

#include "admin/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace hearth::admin {
namespace {

TEST(Json, NonAsciiEscapesRoundTrip) {
    // "é", "€" and, as a surrogate pair, "🎧": the old reader made each of them "?".
    const auto parsed = parse_json(R"({"user":"Ren\u00e9e \u20ac \ud83c\udfa7"})");
    ASSERT_TRUE(parsed.has_value());
    const std::string user = json_field_text(*parsed, "user");
    EXPECT_EQ(user,
              "Ren\xc3\xa9"
              "e \xe2\x82\xac \xf0\x9f\x8e\xa7");
    const auto again = parse_json(json_text(Json{{"user", user}}));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(json_field_text(*again, "user"), user);
}

TEST(Json, NaNAndInfinityAreWrittenAsNull) {
    const Json answer = {{"jitter_ms", std::nan("")},
                         {"loss", std::numeric_limits<double>::infinity()},
                         {"quality", 97.5}};
    const std::string text = json_text(answer);
    EXPECT_EQ(text, R"({"jitter_ms":null,"loss":null,"quality":97.5})");
    EXPECT_EQ(text.find("nan"), std::string::npos);
    EXPECT_EQ(text.find("inf"), std::string::npos);
    EXPECT_TRUE(parse_json(text).has_value());
}

TEST(Json, BytesThatAreNotUtf8DoNotThrow) {
    // A username is whatever a client sent: written, it must still be JSON.
    const std::string text = json_text(Json{{"user", std::string("bad\xff\xfe")}});
    EXPECT_TRUE(parse_json(text).has_value()) << text;
}

TEST(Json, MembersKeepTheOrderTheyWereWrittenIn) {
    EXPECT_EQ(json_text(Json{{"status", "ready"}, {"draining", false}, {"allocations", 3}}),
              R"({"status":"ready","draining":false,"allocations":3})");
}

TEST(Json, RefusesWhatIsNotJson) {
    for (const char* text : {"", "{", "nan", "{\"a\":}", "[1,]", "HTTP/1.1 200 OK"}) {
        EXPECT_FALSE(parse_json(text).has_value()) << text;
    }
}

TEST(Json, FieldsAsText) {
    const auto parsed = parse_json(R"({"a":3,"b":2.5,"c":true,"d":null,"e":"x","f":3.0})");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(json_field_text(*parsed, "a"), "3");
    EXPECT_EQ(json_field_text(*parsed, "b"), "2.50");
    EXPECT_EQ(json_field_text(*parsed, "c"), "true");
    EXPECT_EQ(json_field_text(*parsed, "d"), "");
    EXPECT_EQ(json_field_text(*parsed, "e"), "x");
    EXPECT_EQ(json_field_text(*parsed, "f"), "3");
    EXPECT_EQ(json_field_text(*parsed, "missing"), "");
    EXPECT_EQ(json_field_text(Json::array(), "a"), "");
}

}  // namespace
}  // namespace hearth::admin
