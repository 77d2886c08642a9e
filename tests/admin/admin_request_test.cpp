// The admin API's request parsing: routes, identifiers in paths, numbers in queries.

#include "admin/admin_request.h"

#include <gtest/gtest.h>

namespace hearth::admin {
namespace {

TEST(AdminRequest, FindsEachFixedRoute) {
    EXPECT_EQ(parse_admin_request(Method::get, "/health")->route, Route::health);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/status")->route, Route::status);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/secrets")->route, Route::list_secrets);
    EXPECT_EQ(parse_admin_request(Method::post, "/v1/secrets")->route, Route::add_secret);
    EXPECT_EQ(parse_admin_request(Method::post, "/v1/reload")->route, Route::reload);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/records")->route, Route::list_ended_sessions);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/history")->route, Route::history);
    EXPECT_EQ(parse_admin_request(Method::post, "/v1/history").error().status, 405);
}

TEST(AdminRequest, TakesIdentifiersFromThePath) {
    const auto revoke = parse_admin_request(Method::post, "/v1/sessions/th-42/revoke");
    ASSERT_TRUE(revoke.has_value());
    EXPECT_EQ(revoke->route, Route::revoke_session);
    EXPECT_EQ(revoke->path_id, "th-42");

    const auto record = parse_admin_request(Method::get, "/v1/sessions/th-42/record");
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->route, Route::get_session_record);
    EXPECT_EQ(record->path_id, "th-42");
    EXPECT_EQ(parse_admin_request(Method::post, "/v1/sessions/th-42/record").error().status, 405);

    const auto allocation = parse_admin_request(Method::get, "/v1/allocations/17");
    ASSERT_TRUE(allocation.has_value());
    EXPECT_EQ(allocation->route, Route::get_allocation);
    EXPECT_EQ(allocation->allocation_id, 17u);

    const auto disconnect = parse_admin_request(Method::post, "/v1/allocations/17/disconnect");
    ASSERT_TRUE(disconnect.has_value());
    EXPECT_EQ(disconnect->route, Route::disconnect_allocation);
    EXPECT_EQ(disconnect->allocation_id, 17u);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/allocations/17/disconnect").error().status,
              405);
    EXPECT_EQ(parse_admin_request(Method::post, "/v1/allocations/0/disconnect").error().status,
              404);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/version")->route, Route::version);
    EXPECT_EQ(parse_admin_request(Method::post, "/v1/log-level")->route, Route::set_log_level);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/log-level").error().status, 405);

    const auto retire = parse_admin_request(Method::post, "/v1/secrets/old/retire");
    ASSERT_TRUE(retire.has_value());
    EXPECT_EQ(retire->path_id, "old");
}

TEST(AdminRequest, RefusesPathsWhoseIdentifierIsMissingOrNested) {
    // "/v1/sessions/revoke" once read as a session named "revoke".
    for (const auto* path :
         {"/v1/sessions/revoke", "/v1/sessions//revoke", "/v1/sessions/a/b/revoke",
          "/v1/secrets/retire", "/v1/secrets//retire"}) {
        const auto parsed = parse_admin_request(Method::post, path);
        ASSERT_FALSE(parsed.has_value()) << path;
        EXPECT_EQ(parsed.error().status, 404) << path;
    }
}

TEST(AdminRequest, RefusesAllocationIdsThatAreNotPositiveNumbers) {
    for (const auto* path : {"/v1/allocations/0", "/v1/allocations/abc", "/v1/allocations/12x",
                             "/v1/allocations/-3", "/v1/allocations/99999999999999999999"}) {
        const auto parsed = parse_admin_request(Method::get, path);
        ASSERT_FALSE(parsed.has_value()) << path;
        EXPECT_EQ(parsed.error().status, 404) << path;
    }
}

TEST(AdminRequest, TellsAWrongMethodFromAnUnknownPath) {
    EXPECT_EQ(parse_admin_request(Method::post, "/health").error().status, 405);
    EXPECT_EQ(parse_admin_request(Method::get, "/v1/sessions/s/revoke").error().status, 405);
    EXPECT_EQ(parse_admin_request(Method::other, "/v1/reload").error().status, 405);
    EXPECT_EQ(parse_admin_request(Method::get, "/v2/health").error().status, 404);
    EXPECT_EQ(parse_admin_request(Method::get, "").error().status, 404);
}

TEST(AdminRequest, RefusesOverlongIdentifiers) {
    const std::string path = "/v1/sessions/" + std::string(max_path_id_length + 1, 'a') + "/revoke";
    EXPECT_FALSE(parse_admin_request(Method::post, path).has_value());
}

TEST(QueryParameter, DecodesAndFindsByName) {
    EXPECT_EQ(query_parameter("session=th%2D1&user=ann", "session"), "th-1");
    EXPECT_EQ(query_parameter("session=th&user=ann", "user"), "ann");
    EXPECT_EQ(query_parameter("session=th", "ttl"), "");
    EXPECT_EQ(query_parameter("", "ttl"), "");
}

TEST(ParseDecimal, AcceptsOnlyWholeNumbersInRange) {
    EXPECT_EQ(parse_decimal("3600", 1, 86400), 3600);
    EXPECT_EQ(parse_decimal("1", 1, 86400), 1);
    for (const auto* text :
         {"", "0", "86401", "12x", " 5", "+5", "-5", "1e3", "99999999999999999999999"}) {
        EXPECT_FALSE(parse_decimal(text, 1, 86400).has_value()) << text;
    }
}

}  // namespace
}  // namespace hearth::admin
