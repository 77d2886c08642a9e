#include "auth/secret_ring.h"

#include <gtest/gtest.h>

namespace hearth::auth {
namespace {

TEST(SecretRing, MintsWithTheNewestAndAcceptsEveryActiveOne) {
    SecretRing ring;
    EXPECT_EQ(ring.newest(), nullptr);
    ring.add({"2026-10", "october-secret-value"});
    ring.add({"2026-11", "november-secret-value"});
    ASSERT_NE(ring.newest(), nullptr);
    EXPECT_EQ(ring.newest()->name, "2026-11");
    EXPECT_EQ(ring.active().size(), 2u);

    EXPECT_TRUE(ring.retire("2026-10"));
    EXPECT_FALSE(ring.retire("2026-10"));
    ASSERT_EQ(ring.active().size(), 1u);
    EXPECT_EQ(ring.active()[0].name, "2026-11");
}

TEST(SecretRing, AddingANameAgainReplacesIt) {
    SecretRing ring;
    ring.add({"a", "first-value-0123456"});
    ring.add({"b", "other-value-0123456"});
    ring.add({"a", "second-value-012345"});
    ASSERT_EQ(ring.active().size(), 2u);
    EXPECT_EQ(ring.newest()->value, "second-value-012345");
}

}  // namespace
}  // namespace hearth::auth
