#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "relay/config/config.h"

namespace hearth::config {
namespace {

const std::string minimal_secrets =
    "auth = { secrets = ( { name = \"a\"; value = \"0123456789abcdef0123\"; } ); };\n";

std::vector<std::string> errors_of(const std::string& text) {
    std::vector<std::string> messages;
    for (const auto& error : load_config_text(text, "test.conf").errors) {
        messages.push_back(error.to_string());
    }
    return messages;
}

TEST(ConfigLoader, AppliesDefaults) {
    const auto result = load_config_text(minimal_secrets, "test.conf");
    ASSERT_TRUE(result.config.has_value());
    const auto& config = *result.config;
    EXPECT_EQ(config.realm, "hearth");
    ASSERT_EQ(config.listen.udp.size(), 1u);
    EXPECT_EQ(config.listen.udp[0].to_string(), "0.0.0.0:3478");
    EXPECT_EQ(config.limits.allocation_lifetime_default.count(), 600);
    EXPECT_EQ(config.limits.allocation_lifetime_max.count(), 3600);
    EXPECT_TRUE(config.peer_policy.allow.empty());
    EXPECT_EQ(config.limits.unauthenticated_requests_per_second, 20u);
    EXPECT_EQ(config.limits.allocate_requests_per_second, 20u);
    EXPECT_EQ(config.limits.upkeep_requests_per_second, 200u);
    EXPECT_EQ(config.admin.listen->to_string(), "127.0.0.1:9478");
    ASSERT_EQ(config.auth.secrets.size(), 1u);
    // RFC 6062 TCP relays are off unless asked for; when on, mail ports stay closed.
    EXPECT_FALSE(config.relay.tcp_allocations);
    EXPECT_EQ(config.relay.tcp_denied_ports, (std::vector<std::uint16_t>{25, 465, 587}));
}

TEST(ConfigLoader, ReadsEveryGroup) {
    const auto result = load_config_text(minimal_secrets + R"(
log_level = "debug";
workers = 3;
listen = { udp = [ "127.0.0.1:3478", "[::1]:3478" ]; tcp = [ ]; tls = [ "127.0.0.1:5349" ]; };
tls = { certificate = "/c.pem"; private_key = "/k.pem"; };
relay = { ipv4 = "192.0.2.10"; ipv6 = "2001:db8::10"; port_min = 50000; port_max = 50100;
          tcp_allocations = true; tcp_denied_ports = [ 25, 6379 ]; };
limits = { allocation_lifetime_max = 1800; max_channels_per_allocation = 8;
           upkeep_requests_per_second = 0; };
session_store = { kind = "embedded"; sessions = ( { id = "s1"; state = "scheduled";
    participants = [ "a", "b" ]; not_before = 10; not_after = 20; allocation_cap = 3; } ); };
peer_policy = { allow = [ "10.20.0.0/16" ]; };
admin = { listen = ""; per_allocation_metrics = true; };
)",
                                         "test.conf");
    ASSERT_TRUE(result.config.has_value()) << result.errors.front().to_string();
    const auto& config = *result.config;
    EXPECT_EQ(config.log_level, LogLevel::debug);
    EXPECT_EQ(config.workers, 3u);
    EXPECT_EQ(config.listen.udp.size(), 2u);
    EXPECT_TRUE(config.listen.tcp.empty());
    EXPECT_EQ(config.listen.tls.size(), 1u);
    EXPECT_EQ(config.relay.ipv6->to_string(), "2001:db8::10");
    EXPECT_EQ(config.relay.port_min, 50000);
    EXPECT_TRUE(config.relay.tcp_allocations);
    EXPECT_EQ(config.relay.tcp_denied_ports, (std::vector<std::uint16_t>{25, 6379}));
    EXPECT_EQ(config.limits.allocation_lifetime_max.count(), 1800);
    EXPECT_EQ(config.limits.max_channels_per_allocation, 8u);
    ASSERT_EQ(config.session_store.sessions.size(), 1u);
    EXPECT_EQ(config.session_store.sessions[0].state, auth::SessionState::scheduled);
    EXPECT_EQ(config.session_store.sessions[0].allocation_cap, 3u);
    EXPECT_EQ(config.peer_policy.allow[0].to_string(), "10.20.0.0/16");
    EXPECT_FALSE(config.admin.listen.has_value());
    EXPECT_TRUE(config.admin.per_allocation_metrics);
}

TEST(ConfigLoader, ReportsEachErrorWithItsLine) {
    const struct {
        std::string text;
        std::string expected;
    } cases[] = {
        {"workers = 999;\n", "test.conf:1: workers: must be between 0 and 256"},
        {"\nrealm = 5;\n", "test.conf:2: realm: must be a string"},
        {"realm = \"" + std::string(65, 'r') + "\";\n",
         "test.conf:1: realm: must be 1 to 64 characters"},
        {"listen = { udp = [ \"nowhere\" ]; };\n",
         "test.conf:1: listen.udp.[0]: 'nowhere' is not an address:port"},
        {"relay = { ipv4 = \"::1\"; };\n", "test.conf:1: relay.ipv4: '::1' is not an IPv4 address"},
        {"relay = {\n port_min = 60000;\n port_max = 50000; };\n",
         "relay: port_min must not be above port_max"},
        {"relay = { tcp_denied_ports = [ 25, 0 ]; };\n",
         "test.conf:1: relay.tcp_denied_ports.[1]: must be between 1 and 65535"},
        {"relay = { tcp_denied_ports = 25; };\n",
         "test.conf:1: relay.tcp_denied_ports: must be an array of ports"},
        {"peer_policy = { allow = [ \"10.0.0.1/8\" ]; };\n",
         "test.conf:1: peer_policy.allow.[0]: '10.0.0.1/8' is not a CIDR range"},
        {"colour = \"blue\";\n", "test.conf:1: colour: unknown key"},
        {"admin = { read_only_token = \"short\"; };\n",
         "test.conf:1: admin.read_only_token: must be at least 16 characters, or \"\" for none"},
        {"relay = { ipv4 = \"10.0.0.5\"; external_ipv4 = \"2001:db8::5\"; };\n",
         "test.conf:1: relay.external_ipv4: '2001:db8::5' is not an IPv4 address"},
        {"relay = { ipv4 = \"10.0.0.5\"; external_ipv6 = \"203.0.113.5\"; };\n",
         "test.conf:1: relay.external_ipv6: '203.0.113.5' is not an IPv6 address"},
        {"relay = { ipv4 = \"10.0.0.5\"; external_ipv4 = \"203.0.113.5:3478\"; };\n",
         "relay.external_ipv4: '203.0.113.5:3478' is not an IPv4 address"},
        {"relay = { external_ipv4 = \"203.0.113.5\"; };\n",
         "relay: external_ipv4 needs ipv4, the address relayed sockets bind"},
        {"limits = { lifetime = 5; };\n", "test.conf:1: limits.lifetime: unknown key"},
        {"limits = { upkeep_requests_per_second = 1000001; };\n",
         "test.conf:1: limits.upkeep_requests_per_second: must be between 0 and 1000000"},
        {"listen = { tls = [ \"127.0.0.1:5349\" ]; };\n",
         "listen.tls needs tls.certificate and tls.private_key"},
        {"session_store = { kind = \"etcd\"; };\n", "must be \"embedded\" or \"redis\""},
        {"workers = ;\n", "test.conf:1: syntax error in 'workers = ;'"},
        {"relay = { ipv4 = \"192.0.2.1\";\n", "syntax error at the end of the file: a group"},
    };
    for (const auto& test : cases) {
        const auto text =
            test.text +
            (test.text.find("secrets") == std::string::npos ? "\n" + minimal_secrets : "");
        const auto errors = errors_of(text);
        ASSERT_FALSE(errors.empty()) << test.text;
        EXPECT_NE(errors.front().find(test.expected), std::string::npos)
            << test.text << " gave " << errors.front();
    }
}

TEST(ConfigLoader, RequiresARealSecret) {
    EXPECT_NE(errors_of("realm = \"x\";\n").front().find("auth.secrets is required"),
              std::string::npos);
    const auto placeholder =
        errors_of("auth = { secrets = ( { name = \"a\"; value = \"CHANGE-ME\"; } ); };\n");
    EXPECT_NE(placeholder.front().find("set a random value"), std::string::npos);
    const auto short_secret =
        errors_of("auth = { secrets = ( { name = \"a\"; value = \"short\"; } ); };\n");
    EXPECT_NE(short_secret.front().find("at least 16 characters"), std::string::npos);
}

TEST(ConfigLoader, ReportsEveryErrorNotJustTheFirst) {
    const auto errors = errors_of("workers = -1;\nrealm = 3;\ncolour = 1;\n" + minimal_secrets);
    EXPECT_EQ(errors.size(), 3u);
}

TEST(ShippedConfig, FailsOnlyOnItsTwoPlaceholders) {
    const auto result = load_config_file(HEARTH_SHIPPED_CONFIG);
    ASSERT_EQ(result.errors.size(), 2u);
    EXPECT_NE(result.errors[0].message.find("relay.ipv4: set this host's public IPv4 address"),
              std::string::npos);
    EXPECT_NE(result.errors[1].message.find("set a random value"), std::string::npos);
}

TEST(ShippedConfig, LoadsOnceThePlaceholdersAreFilled) {
    std::ifstream file(HEARTH_SHIPPED_CONFIG);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto replace = [&text](const std::string& from, const std::string& to) {
        text.replace(text.find(from), from.size(), to);
    };
    replace("ipv4 = \"CHANGE-ME\"", "ipv4 = \"192.0.2.10\"");
    replace("value = \"CHANGE-ME\"", "value = \"0123456789abcdef0123456789abcdef\"");
    const auto result = load_config_text(text, "hearth.conf");
    EXPECT_TRUE(result.config.has_value())
        << (result.errors.empty() ? "" : result.errors.front().to_string());
}

TEST(ConfigLoader, ReadsMuxUpstreamsWithTheirNamesInLowerCase) {
    const auto result = load_config_text(minimal_secrets + R"(
listen = { mux = [ "0.0.0.0:443" ]; };
tls = { certificate = "c.pem"; private_key = "k.pem"; };
mux = { upstreams = ( { sni = "App.Example.org"; address = "127.0.0.1:8443"; } );
        max_upstream_connections = 100; };
)",
                                         "test.conf");
    ASSERT_TRUE(result.config.has_value()) << result.errors[0].to_string();
    const auto& mux = result.config->mux;
    ASSERT_EQ(mux.upstreams.size(), 1u);
    EXPECT_EQ(mux.upstreams[0].sni, "app.example.org");
    EXPECT_EQ(mux.upstreams[0].address.to_string(), "127.0.0.1:8443");
    EXPECT_EQ(mux.max_upstream_connections, 100u);
    EXPECT_EQ(result.config->listen.mux[0].to_string(), "0.0.0.0:443");
}

TEST(ConfigLoader, RefusesBadMuxSettingsWithTheirLines) {
    const auto errors = errors_of(minimal_secrets + R"(listen = { mux = [ "0.0.0.0:443" ]; };
mux = { upstreams = (
    { sni = "app.example.org"; address = "127.0.0.1:8443"; },
    { sni = "APP.example.org"; address = "127.0.0.1:8444"; },
    { sni = "bad name"; address = "127.0.0.1:1"; },
    { sni = "web.example.org"; address = "nowhere"; },
    { sni = "x.example.org"; address = "127.0.0.1:2"; port = 3; }
); };
)");
    const std::vector<std::string> expected = {
        "test.conf:5: mux.upstreams.[1]: sni 'app.example.org' appears twice",
        "test.conf:6: mux.upstreams.[2]: needs sni, a host name such as app.example.org",
        "test.conf:7: mux.upstreams.[3]: upstream 'web.example.org' needs an address:port (e.g. "
        "127.0.0.1:8443)",
        "test.conf:8: mux.upstreams.[4].port: unknown key",
        "test.conf: (root): listen.mux needs tls.certificate and tls.private_key",
    };
    EXPECT_EQ(errors, expected);
}

TEST(ConfigLoader, MissingFileIsAnError) {
    const auto result = load_config_file("/nonexistent/hearth.conf");
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].to_string(), "/nonexistent/hearth.conf: cannot be read");
}

TEST(ConfigLoader, ADirectoryIsNotAnEmptyConfig) {
    const auto result = load_config_file("/");
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].to_string(), "/: is a directory, not a config file");
}

}  // namespace
}  // namespace hearth::config
