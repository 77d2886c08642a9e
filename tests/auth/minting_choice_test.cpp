#include "auth/minting_choice.h"

#include <gtest/gtest.h>

namespace hearth::auth {
namespace {

SecretRing ring_of(std::initializer_list<const char*> names) {
    SecretRing ring;
    for (const char* name : names) {
        ring.add({name, std::string(name) + "-value-0123456789"});
    }
    return ring;
}

TEST(MintingChoice, AloneANodeMintsWithItsNewest) {
    const auto ring = ring_of({"a", "b"});
    const auto choice = choose_minting_secret(ring, {});
    ASSERT_NE(choice.secret, nullptr);
    EXPECT_EQ(choice.secret->name, "b");
    EXPECT_TRUE(choice.waiting_for.empty());
    EXPECT_FALSE(choice.none_held_by_all);
}

TEST(MintingChoice, ANewSecretWaitsForEveryNodeThatDoesNotReportIt) {
    const auto ring = ring_of({"a", "b"});
    const std::vector<SecretReport> others{{"a", "b"}, {"a"}, {"b", "a"}, {}};
    const auto choice = choose_minting_secret(ring, others);
    ASSERT_NE(choice.secret, nullptr);
    // A node that reports nothing (an older hearthd) holds nothing: "a" is not everywhere
    // either, so the newest is used, flagged.
    EXPECT_TRUE(choice.none_held_by_all);
    EXPECT_EQ(choice.secret->name, "b");

    const std::vector<SecretReport> lagging{{"a", "b"}, {"a"}};
    const auto waiting = choose_minting_secret(ring, lagging);
    ASSERT_NE(waiting.secret, nullptr);
    EXPECT_EQ(waiting.secret->name, "a");
    EXPECT_EQ(waiting.waiting_for, std::vector<std::size_t>{1});
    EXPECT_FALSE(waiting.none_held_by_all);
}

TEST(MintingChoice, OnceEveryNodeReportsItTheNewSecretIsUsed) {
    const auto ring = ring_of({"a", "b"});
    const std::vector<SecretReport> others{{"a", "b"}, {"b", "a", "z"}};
    const auto choice = choose_minting_secret(ring, others);
    ASSERT_NE(choice.secret, nullptr);
    EXPECT_EQ(choice.secret->name, "b");
    EXPECT_TRUE(choice.waiting_for.empty());
}

TEST(MintingChoice, ARetiredSecretIsNeverChosenEvenIfOthersStillHoldIt) {
    auto ring = ring_of({"a", "b", "c"});
    ring.retire("c");
    // Another node has not applied the retirement yet and still reports "c".
    const std::vector<SecretReport> others{{"a", "b", "c"}};
    const auto choice = choose_minting_secret(ring, others);
    ASSERT_NE(choice.secret, nullptr);
    EXPECT_EQ(choice.secret->name, "b");
}

TEST(MintingChoice, TheNewestHeldByAllIsChosenPastSeveralWaiting) {
    const auto ring = ring_of({"a", "b", "c"});
    const std::vector<SecretReport> others{{"a", "b"}, {"a"}};
    const auto choice = choose_minting_secret(ring, others);
    ASSERT_NE(choice.secret, nullptr);
    EXPECT_EQ(choice.secret->name, "a");
    EXPECT_EQ(choice.waiting_for, (std::vector<std::size_t>{0, 1}));
}

TEST(MintingChoice, AnEmptyRingMintsWithNothing) {
    const auto choice = choose_minting_secret(SecretRing{}, {});
    EXPECT_EQ(choice.secret, nullptr);
}

TEST(MintingChoice, AReportReadsBackAsItsNames) {
    const auto ring = ring_of({"2026-10", "2026-11"});
    EXPECT_EQ(report_text(ring), "2026-10 2026-11");
    EXPECT_EQ(parse_report(report_text(ring)), (SecretReport{"2026-10", "2026-11"}));
    EXPECT_EQ(parse_report(""), SecretReport{});
    EXPECT_EQ(parse_report("  x  y "), (SecretReport{"x", "y"}));
}

}  // namespace
}  // namespace hearth::auth
