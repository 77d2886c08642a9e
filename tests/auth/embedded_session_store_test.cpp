#include "auth/embedded_session_store.h"

#include <gtest/gtest.h>

namespace hearth::auth {
namespace {

SessionVerdict reserve(EmbeddedSessionStore& store, std::string_view session, std::string_view user,
                       std::int64_t now = 1000, PastTheCap past_the_cap = PastTheCap::refuse) {
    SessionVerdict verdict = SessionVerdict::store_unavailable;
    store.reserve_allocation(session, user, now, past_the_cap,
                             [&](SessionVerdict answer) { verdict = answer; });
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

// Rejoin past the session's cap: admitted on an idle allocation's slot, which the node
// deletes without giving it back, so the count stays; only when asked to replace.
TEST(EmbeddedSessionStore, PastTheCapOnlyAReplacementIsAllowedAndCountsNothing) {
    EmbeddedSessionStore store;
    store.put({"s", SessionState::active, {"alice", "bob"}, 0, 0, 2});
    constexpr auto replace = PastTheCap::replace_idle;
    EXPECT_EQ(reserve(store, "s", "alice", 1000, replace), SessionVerdict::allowed);  // room
    EXPECT_EQ(reserve(store, "s", "bob"), SessionVerdict::allowed);
    EXPECT_EQ(store.allocations_of("s"), 2u);
    EXPECT_EQ(reserve(store, "s", "bob"), SessionVerdict::cap_reached);
    EXPECT_EQ(reserve(store, "s", "bob", 1000, replace), SessionVerdict::allowed_by_replacement);
    EXPECT_EQ(store.allocations_of("s"), 2u);
    // The other checks come first: a replacement is no way around them.
    EXPECT_EQ(reserve(store, "s", "mallory", 1000, replace), SessionVerdict::not_participant);
    EXPECT_TRUE(store.end_session("s"));
    EXPECT_EQ(reserve(store, "s", "bob", 1000, replace), SessionVerdict::not_active);
}

TEST(EmbeddedSessionStore, NoSlotCountedNoneToHandOver) {
    EmbeddedSessionStore store;
    store.put({"s", SessionState::active, {"alice"}, 0, 0, 0});
    EXPECT_EQ(reserve(store, "s", "alice", 1000, PastTheCap::replace_idle),
              SessionVerdict::cap_reached);
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
