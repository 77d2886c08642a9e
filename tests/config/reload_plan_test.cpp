// plan_reload: every key of every section, changed once, is either applied or named as
// needing a restart (and then keeps its running value). The keys come from the sections'
// keys(), so a key added there is covered here without a line of this test changing.

#include "relay/config/reload_plan.h"

#include <gtest/gtest.h>

#include <functional>
#include <libconfig.h++>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hearth::config {
namespace {

// A Config visitor that, for the key numbered `target`, writes a valid value different
// from the one there, and records every key's name and reload policy on the way.
struct Key {
    std::string name;
    Reload reload;
};

class ChangeOneKey {
  public:
    ChangeOneKey(std::size_t target, std::vector<Key>& keys, std::string path = "")
        : target_(target), keys_(keys), path_(std::move(path)) {}

    template <typename T>
    void number(const char* name, Reload reload, long long min, long long, T& value) {
        visit(name, reload, [&] {
            value = static_cast<T>(static_cast<long long>(value) == min ? min + 1 : min);
        });
    }
    void seconds(const char* name, Reload reload, long long min, long long,
                 std::chrono::seconds& value) {
        visit(name, reload,
              [&] { value = std::chrono::seconds(value.count() == min ? min + 1 : min); });
    }
    void flag(const char* name, Reload reload, bool& value) {
        visit(name, reload, [&] { value = !value; });
    }
    void text(const char* name, Reload reload, TextCheck, std::string& value) {
        visit(name, reload, [&] { value += "x"; });
    }
    void secret(const char* name, Reload reload, TextCheck, std::string& value) {
        visit(name, reload, [&] { value = value.empty() ? std::string(16, 's') : ""; });
    }
    void choice(const char* name, Reload reload, LogLevel& value) {
        visit(name, reload,
              [&] { value = value == LogLevel::debug ? LogLevel::info : LogLevel::debug; });
    }
    void choice(const char* name, Reload reload, StoreKind& value) {
        visit(name, reload,
              [&] { value = value == StoreKind::redis ? StoreKind::embedded : StoreKind::redis; });
    }
    void choice(const char* name, Reload reload, FastPathMode& value) {
        visit(name, reload, [&] {
            value = value == FastPathMode::native ? FastPathMode::generic : FastPathMode::native;
        });
    }
    void addresses(const char* name, Reload reload, std::vector<TransportAddress>& value) {
        visit(name, reload, [&] { value.push_back(*TransportAddress::parse("192.0.2.9:9")); });
    }
    void address(const char* name, Reload reload, std::optional<TransportAddress>& value) {
        visit(name, reload,
              [&] { value = value ? std::nullopt : TransportAddress::parse("192.0.2.9:9"); });
    }
    void relay_ip(const char* name, Reload reload, AddressFamily family,
                  std::optional<IpAddress>& value) {
        visit(name, reload, [&] {
            value = IpAddress::parse(family == AddressFamily::ipv4 ? "192.0.2.9" : "2001:db8::9");
        });
    }
    void ranges(const char* name, Reload reload, std::vector<AddressRange>& value) {
        visit(name, reload, [&] { value.push_back(*AddressRange::parse("10.9.0.0/16")); });
    }
    void ports(const char* name, Reload reload, std::vector<std::uint16_t>& value) {
        visit(name, reload, [&] { value.push_back(2525); });
    }
    void names(const char* name, Reload reload, std::vector<std::string>& value) {
        visit(name, reload, [&] { value.push_back("added0"); });
    }
    void secrets(const char* name, Reload reload, std::vector<auth::NamedSecret>& value) {
        visit(name, reload, [&] { value.push_back({"added", std::string(32, 'a')}); });
    }
    void sessions(const char* name, Reload reload, std::vector<auth::Session>& value) {
        visit(name, reload, [&] {
            auth::Session added;
            added.id = "added";
            value.push_back(added);
        });
    }
    void upstreams(const char* name, Reload reload, std::vector<MuxUpstream>& value) {
        visit(name, reload, [&] {
            value.push_back({"added.example.org", TransportAddress{IpAddress::v4(0x7F000001), 1}});
        });
    }
    template <typename Section>
    void group(const char* name, Section& section) {
        ChangeOneKey nested(target_, keys_, path_ + name + ".");
        Section::keys(nested, section);
    }

  private:
    template <typename Change>
    void visit(const char* name, Reload reload, Change change) {
        if (keys_.size() == target_) {
            change();
        }
        keys_.push_back({path_ + name, reload});
    }

    std::size_t target_;
    std::vector<Key>& keys_;
    std::string path_;
};

// Every key of a Config, in the order keys() names them.
std::vector<Key> every_key() {
    std::vector<Key> keys;
    ChangeOneKey survey(SIZE_MAX, keys);
    Config config;
    Config::keys(survey, config);
    return keys;
}

TEST(ReloadPlan, EveryKeyChangedIsAppliedOrNamedForARestart) {
    const Config running;
    const auto keys = every_key();
    ASSERT_GT(keys.size(), 50u);  // every section's keys were reached

    std::set<std::string> seen;
    for (std::size_t target = 0; target < keys.size(); ++target) {
        const auto& key = keys[target];
        EXPECT_TRUE(seen.insert(key.name).second) << key.name << " is described twice";
        Config changed = running;
        std::vector<Key> ignored;
        ChangeOneKey change(target, ignored);
        Config::keys(change, changed);
        ASSERT_NE(changed, running) << key.name << " could not be changed";

        const auto plan = plan_reload(running, changed);
        const auto& named = key.reload == Reload::live ? plan.applied : plan.needs_restart;
        const auto& other = key.reload == Reload::live ? plan.needs_restart : plan.applied;
        EXPECT_EQ(named, std::vector<std::string>{key.name}) << key.name;
        EXPECT_TRUE(other.empty()) << key.name;
        // What runs: the new value of a live key, the running value of a restart key.
        EXPECT_EQ(plan.effective == changed, key.reload == Reload::live) << key.name;
        EXPECT_EQ(plan.effective == running, key.reload == Reload::restart) << key.name;
    }
}

TEST(ReloadPlan, AnUnchangedFileChangesNothing) {
    const Config running;
    const auto plan = plan_reload(running, running);
    EXPECT_TRUE(plan.applied.empty());
    EXPECT_TRUE(plan.needs_restart.empty());
    EXPECT_EQ(plan.effective, running);
}

TEST(ReloadPlan, TheKeysOperatorsAskAboutAreLiveOrNot) {
    std::map<std::string, Reload> policy;
    for (const auto& key : every_key()) {
        policy[key.name] = key.reload;
    }
    // A leaked admin token is rotated by a reload; an ended session ends by one.
    EXPECT_EQ(policy.at("admin.token"), Reload::live);
    EXPECT_EQ(policy.at("session_store.sessions"), Reload::live);
    EXPECT_EQ(policy.at("limits.nonce_lifetime"), Reload::live);
    EXPECT_EQ(policy.at("limits.auth_ban"), Reload::live);
    EXPECT_EQ(policy.at("listen.udp"), Reload::restart);
    EXPECT_EQ(policy.at("workers"), Reload::restart);
}

// etc/hearth.conf shows every key with its default (the loader refuses a key it does not
// describe, so the file holds no other).
TEST(ShippedConfig, ShowsEveryKey) {
    libconfig::Config shipped;
    shipped.readFile(HEARTH_SHIPPED_CONFIG);
    for (const auto& key : every_key()) {
        EXPECT_TRUE(shipped.exists(key.name)) << key.name << " is missing from etc/hearth.conf";
    }
}

}  // namespace
}  // namespace hearth::config
