// The bans that authentication failures earn (issue 17): a username from a source, or a
// whole source throttled, never a valid credential of someone else on the same address.

#include "relay/turn/source_ban_list.h"

#include <gtest/gtest.h>

#include <string>

namespace hearth::turn {
namespace {

using Standing = SourceBanList::Standing;

IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}

const IpAddress nat = ip("198.51.100.7");

TEST(SourceBanList, AUsernameFailingFromASourceIsBannedFromThereAlone) {
    SourceBanList bans(3, Seconds{60}, Seconds{300}, 100);
    const TimePoint now{};
    EXPECT_FALSE(bans.record_failure(nat, "1:s1:mallory", now).username_ban);
    EXPECT_FALSE(bans.record_failure(nat, "1:s1:mallory", now).username_ban);
    EXPECT_TRUE(bans.record_failure(nat, "1:s1:mallory", now).username_ban);
    EXPECT_EQ(bans.standing(nat, "1:s1:mallory", now), Standing::username_banned);
    EXPECT_EQ(bans.standing(nat, "1:s1:alice", now), Standing::clear);  // the neighbour
    EXPECT_EQ(bans.standing(nat, "", now), Standing::clear);            // no credential
    EXPECT_EQ(bans.standing(ip("198.51.100.8"), "1:s1:mallory", now), Standing::clear);
    EXPECT_EQ(bans.standing(nat, "1:s1:mallory", now + Seconds{300}), Standing::clear);
}

TEST(SourceBanList, FailuresOverManyUsernamesThrottleTheSource) {
    SourceBanList bans(3, Seconds{60}, Seconds{300}, 5);
    const TimePoint now{};
    for (int i = 0; i < 4; ++i) {
        const auto started = bans.record_failure(nat, "guess-" + std::to_string(i), now);
        EXPECT_FALSE(started.username_ban || started.source_throttle) << i;
    }
    EXPECT_TRUE(bans.record_failure(nat, "guess-4", now).source_throttle);
    EXPECT_EQ(bans.standing(nat, "1:s1:alice", now), Standing::source_throttled);
    EXPECT_EQ(bans.standing(ip("198.51.100.8"), "1:s1:alice", now), Standing::clear);
    // A throttle in force runs its course: more failures do not extend it.
    EXPECT_FALSE(bans.record_failure(nat, "guess-5", now + Seconds{299}).source_throttle);
    EXPECT_EQ(bans.standing(nat, "1:s1:alice", now + Seconds{300}), Standing::clear);
}

TEST(SourceBanList, FailuresCountWithinTheWindow) {
    SourceBanList bans(2, Seconds{60}, Seconds{300}, 0);
    const TimePoint start{};
    EXPECT_FALSE(bans.record_failure(nat, "u", start).username_ban);
    EXPECT_FALSE(bans.record_failure(nat, "u", start + Seconds{61}).username_ban);  // a new window
    EXPECT_TRUE(bans.record_failure(nat, "u", start + Seconds{62}).username_ban);
    EXPECT_EQ(bans.standing(nat, "v", start + Seconds{62}), Standing::clear);  // 0: no throttle
}

TEST(SourceBanList, ZeroDisablesBothAndReloadChangesThresholds) {
    SourceBanList bans(0, Seconds{60}, Seconds{300}, 0);
    const TimePoint now{};
    for (int i = 0; i < 50; ++i) {
        const auto started = bans.record_failure(nat, "u", now);
        EXPECT_FALSE(started.username_ban || started.source_throttle);
    }
    EXPECT_EQ(bans.standing(nat, "u", now), Standing::clear);
    bans.configure(1, Seconds{60}, Seconds{30}, 0);
    EXPECT_TRUE(bans.record_failure(nat, "u", now).username_ban);
    EXPECT_EQ(bans.ban_duration(), Seconds{30});
}

// A flood of fresh usernames evicts entries rather than growing memory, and takes the
// slots of entries not banned before a ban in force.
TEST(SourceBanList, AFloodOfFreshUsernamesLeavesBansInForce) {
    SourceBanList bans(2, Seconds{60}, Seconds{300}, 0);
    const TimePoint now{};
    bans.record_failure(nat, "1:s1:mallory", now);
    ASSERT_TRUE(bans.record_failure(nat, "1:s1:mallory", now).username_ban);
    for (int i = 0; i < 20'000; ++i) {  // five times the table, one failure each
        bans.record_failure(ip("203.0.113.1"), "flood-" + std::to_string(i), now + Seconds{1});
    }
    EXPECT_EQ(bans.standing(nat, "1:s1:mallory", now + Seconds{2}), Standing::username_banned);
}

}  // namespace
}  // namespace hearth::turn
