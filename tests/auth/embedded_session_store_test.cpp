#include "auth/embedded_session_store.h"

#include <gtest/gtest.h>

namespace hearth::auth {
namespace {

SessionVerdict reserve(EmbeddedSessionStore& store, std::string_view session, std::string_view user,
                       std::int64_t now = 1000) {
    SessionVerdict verdict = SessionVerdict::store_unavailable;
    store.reserve_allocation(session, user, now, [&](SessionVerdict answer) { verdict = answer; });
    return verdict;
}

SessionVerdict check(EmbeddedSessionStore& store, std::string_view session, std::string_view user,
                     std::int64_t now = 1000) {
    SessionVerdict verdict = SessionVerdict::store_unavailable;
    store.check_session(session, user, now, [&](SessionVerdict answer) { verdict = answer; });
    return verdict;
}

TEST(EmbeddedSessionStore, GivesEveryVerdict) {
    EmbeddedSessionStore store;
    store.put({"live", SessionState::active, {"alice", "bob"}, 500, 2000, 2});
    store.put({"later", SessionState::scheduled, {"alice"}, 0, 0, 2});
    EXPECT_EQ(reserve(store, "none", "alice"), SessionVerdict::unknown_session);
    EXPECT_EQ(reserve(store, "later", "alice"), SessionVerdict::not_active);
    EXPECT_EQ(reserve(store, "live", "alice", 400), SessionVerdict::outside_window);
    EXPECT_EQ(reserve(store, "live", "alice", 2001), SessionVerdict::outside_window);
    EXPECT_EQ(reserve(store, "live", "mallory"), SessionVerdict::not_participant);
    EXPECT_EQ(reserve(store, "live", "alice"), SessionVerdict::allowed);
    EXPECT_EQ(reserve(store, "live", "bob"), SessionVerdict::allowed);
    EXPECT_EQ(reserve(store, "live", "bob"), SessionVerdict::cap_reached);
    EXPECT_EQ(store.allocations_of("live"), 2u);
}

TEST(EmbeddedSessionStore, ReleaseGivesTheSlotBack) {
    EmbeddedSessionStore store;
    store.put({"s", SessionState::active, {"alice"}, 0, 0, 1});
    EXPECT_EQ(reserve(store, "s", "alice"), SessionVerdict::allowed);
    EXPECT_EQ(reserve(store, "s", "alice"), SessionVerdict::cap_reached);
    store.release_allocation("s", "alice");
    EXPECT_EQ(reserve(store, "s", "alice"), SessionVerdict::allowed);
    store.release_allocation("s", "alice");
    store.release_allocation("s", "alice");  // never below zero
    EXPECT_EQ(store.allocations_of("s"), 0u);
}

TEST(EmbeddedSessionStore, EndingASessionOrRemovingAUserRefusesFromThenOn) {
    EmbeddedSessionStore store;
    store.put({"s", SessionState::active, {"alice", "bob"}, 0, 0, 4});
    EXPECT_EQ(check(store, "s", "bob"), SessionVerdict::allowed);
    EXPECT_TRUE(store.remove_participant("s", "bob"));
    EXPECT_EQ(check(store, "s", "bob"), SessionVerdict::not_participant);
    EXPECT_EQ(check(store, "s", "alice"), SessionVerdict::allowed);
    EXPECT_TRUE(store.end_session("s"));
    EXPECT_EQ(check(store, "s", "alice"), SessionVerdict::not_active);
    EXPECT_FALSE(store.end_session("unknown"));
}

}  // namespace
}  // namespace hearth::auth
