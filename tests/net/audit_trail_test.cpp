// The audit trail's line writer, the lines each event becomes, and the sinks: a file that
// gets every line, a writer that cannot keep up and a Redis that does not answer, both of
// which cost counted lines, never a wait.

#include "relay/net/audit_trail.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "relay/net/audit_line.h"
#include "relay/net/audit_record.h"

namespace hearth::relay {
namespace {

std::string json_string(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

TEST(AuditLine, EscapesWhatJsonRequires) {
    EXPECT_EQ(json_string("plain"), "plain");
    EXPECT_EQ(json_string("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(json_string("line\nfeed\r\ttab"), "line\\nfeed\\r\\ttab");
    EXPECT_EQ(json_string(std::string_view("\x01\x1f\0", 3)), "\\u0001\\u001f\\u0000");
    EXPECT_EQ(json_string("\x7f"), "\x7f");  // DEL is allowed in a JSON string (RFC 8259 §7)
}

TEST(AuditLine, KeepsUtf8AndReplacesWhatIsNot) {
    EXPECT_EQ(json_string("Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x98\x80");
    const std::string replacement = "\xEF\xBF\xBD";
    EXPECT_EQ(json_string("a\xFF"
                          "b"),
              "a" + replacement + "b");
    EXPECT_EQ(json_string("\xC3"), replacement);                    // cut short
    EXPECT_EQ(json_string("\xC0\xAF"), replacement + replacement);  // overlong '/'
    EXPECT_EQ(json_string("\xED\xA0\x80"), replacement + replacement + replacement);  // surrogate
    EXPECT_EQ(json_string("\xF4\x90\x80\x80"),
              replacement + replacement + replacement + replacement);  // past U+10FFFF
}

TEST(AuditLine, BuildsOneFlatObjectWithNestedTraffic) {
    AuditLine line;
    line.field("event", "x").field("n", 3).field("list", std::vector<std::string>{"a", "b\""});
    line.begin_object("to_peer").field("bytes", std::uint64_t{10}).end_object();
    line.field("after", std::int64_t{-1});
    EXPECT_EQ(line.finish(),
              R"({"event":"x","n":3,"list":["a","b\""],"to_peer":{"bytes":10},"after":-1})");
}

TEST(AuditLine, TimeIsRfc3339UtcWithMilliseconds) {
    using namespace std::chrono;
    const system_clock::time_point time{seconds{1'700'000'000} + milliseconds{7}};
    EXPECT_EQ(rfc3339_utc(time), "2023-11-14T22:13:20.007Z");
}

class AuditRecordTest : public ::testing::Test {
  protected:
    AuditRecordTest()
        : allocation_(42,
                      turn::FiveTuple{*TransportAddress::parse("198.51.100.7:40000"),
                                      *TransportAddress::parse("192.0.2.1:3478"),
                                      turn::ClientTransport::tls},
                      turn::Owner{"1:s1:al\"ice", "s1", "al\"ice", 0}, 4, 4) {
        allocation_.relay_ipv4 = turn::RelayEndpoint{*TransportAddress::parse("203.0.113.5:50000")};
        allocation_.created = turn::TimePoint{} + std::chrono::seconds(100);
        allocation_.expires = allocation_.created + std::chrono::seconds(600);
        stamp_ =
            AuditStamp{std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}},
                       "node-a", allocation_.created + std::chrono::milliseconds(90'500)};
    }
    turn::Allocation allocation_;
    AuditStamp stamp_;
    const std::string common_ = R"("time":"2023-11-14T22:13:20.000Z","node":"node-a",)";
    const std::string owner_ =
        R"("allocation":42,"session":"s1","user":"al\"ice","client":"198.51.100.7:40000",)"
        R"("transport":"tls","relayed":["203.0.113.5:50000"],"duration_s":90)";
};

TEST_F(AuditRecordTest, ADeletedAllocationCarriesWhyHowLongAndHowMuch) {
    allocation_.client_to_peer.bytes = 1200;
    allocation_.client_to_peer.packets = 10;
    allocation_.peer_to_client.bytes = 300;
    allocation_.peer_to_client.packets = 3;
    allocation_.peer_to_client.dropped_no_permission = 2;
    EXPECT_EQ(audit_allocation_deleted(stamp_, allocation_, turn::DeleteReason::revoked),
              "{" + common_ + R"("event":"allocation_deleted",)" + owner_ +
                  R"(,"reason":"revoked","to_peer":{"bytes":1200,"packets":10,"dropped":0},)"
                  R"("to_client":{"bytes":300,"packets":3,"dropped":2}})");
}

// Rejoin: an idle allocation whose slot of the per-user cap went to the user's new one.
TEST_F(AuditRecordTest, AReplacedAllocationSaysSo) {
    const auto line = audit_allocation_deleted(stamp_, allocation_, turn::DeleteReason::replaced);
    EXPECT_NE(line.find(R"(,"reason":"replaced",)"), std::string::npos) << line;
}

TEST_F(AuditRecordTest, CreatedRefreshedAndFirstUsesNameTheirOwnFields) {
    EXPECT_EQ(
        audit_allocation_created(stamp_, allocation_),
        "{" + common_ + R"("event":"allocation_created",)" + owner_ + R"(,"lifetime_s":600})");
    EXPECT_EQ(
        audit_allocation_refreshed(stamp_, allocation_, turn::Seconds{300}),
        "{" + common_ + R"("event":"allocation_refreshed",)" + owner_ + R"(,"lifetime_s":300})");
    const TransportAddress peer = *TransportAddress::parse("8.8.8.8:5000");
    EXPECT_EQ(
        audit_permission_first_used(stamp_, allocation_, peer, turn::Direction::peer_to_client),
        "{" + common_ + R"("event":"permission_first_used",)" + owner_ +
            R"(,"peer":"8.8.8.8:5000","direction":"peer_to_client"})");
    const turn::ChannelBinding channel{0x4001, peer, {}, true};
    EXPECT_EQ(
        audit_channel_first_used(stamp_, allocation_, channel, turn::Direction::client_to_peer),
        "{" + common_ + R"("event":"channel_first_used",)" + owner_ +
            R"(,"peer":"8.8.8.8:5000","channel":16385,"direction":"client_to_peer"})");
}

TEST_F(AuditRecordTest, ARefusalNamesTheOwnerOnlyWhenKnown) {
    const turn::FiveTuple tuple = allocation_.five_tuple();
    EXPECT_EQ(audit_allocation_refused(stamp_, {tuple, stun::Method::allocate,
                                                turn::TurnError::unauthorized, "bad integrity"}),
              "{" + common_ +
                  R"("event":"allocation_refused","client":"198.51.100.7:40000",)"
                  R"("transport":"tls","error":401,"reason":"bad integrity"})");
    const turn::Owner owner{"1:s1:bob", "s1", "bob", 0};
    EXPECT_EQ(audit_allocation_refused(
                  stamp_, {tuple, stun::Method::allocate, turn::TurnError::allocation_quota_reached,
                           "session cap", &owner}),
              "{" + common_ +
                  R"("event":"allocation_refused","session":"s1","user":"bob",)"
                  R"("client":"198.51.100.7:40000","transport":"tls","error":486,)"
                  R"("reason":"session cap"})");
}

// A sink that blocks in its first write until released: a disk that has stalled.
class StalledSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    void wait_until_writing() {
        std::unique_lock lock(state_);
        changed_.wait(lock, [&] { return writing_; });
    }
    void release() {
        std::lock_guard lock(state_);
        released_ = true;
        changed_.notify_all();
    }
    std::vector<std::string> written() {
        std::lock_guard lock(state_);
        return written_;
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        std::unique_lock lock(state_);
        writing_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
        written_.emplace_back(message.payload.data(), message.payload.size());
    }
    void flush_() override {}

  private:
    std::mutex state_;
    std::condition_variable changed_;
    bool writing_ = false;
    bool released_ = false;
    std::vector<std::string> written_;
};

TEST(AuditTrail, AWriterThatCannotKeepUpCostsCountedLinesNeverAWait) {
    auto sink = std::make_shared<StalledSink>();
    constexpr std::size_t queue_lines = 4;
    std::vector<std::string> written;
    {
        AuditTrail trail(sink, queue_lines, "node-a");
        trail.record("s1", "first");
        sink->wait_until_writing();  // the writer holds "first", stalled
        for (int i = 0; i < 10; ++i) {
            trail.record("s1", "line " + std::to_string(i));  // returns at once
        }
        EXPECT_EQ(trail.counts().events, 11u);
        // The queue keeps the newest 4; the 6 before them were dropped, and counted.
        EXPECT_EQ(trail.counts().file_dropped, 6u);
        sink->release();
    }  // the writer finishes what waits before the trail goes
    EXPECT_EQ(sink->written(),
              (std::vector<std::string>{"first", "line 6", "line 7", "line 8", "line 9"}));
}

TEST(AuditTrail, LinesPastTheBoundInFlightToRedisAreCountedAndNotSent) {
    AuditTrail trail(nullptr, 4, "node-a");
    std::vector<std::function<void(bool)>> waiting;
    std::vector<std::string> sessions;
    trail.set_stream(
        [&](const std::string& session, const std::string&, std::function<void(bool)> done) {
            sessions.push_back(session);
            waiting.push_back(std::move(done));
        },
        2);
    trail.record("s1", "a");
    trail.record("s2", "b");
    trail.record("s3", "c");  // a third in flight: past the bound
    EXPECT_EQ(sessions, (std::vector<std::string>{"s1", "s2"}));
    EXPECT_EQ(trail.counts().stream_dropped, 1u);

    waiting[0](true);   // written
    waiting[1](false);  // Redis did not take it
    EXPECT_EQ(trail.counts().stream_dropped, 2u);
    trail.record("", "d");  // room again
    EXPECT_EQ(sessions.size(), 3u);
    EXPECT_EQ(trail.counts().events, 4u);
    EXPECT_EQ(trail.counts().file_dropped, 0u);  // no file
}

TEST(AuditTrail, TheFileGetsOneLinePerEventAndRotates) {
    const auto directory =
        std::filesystem::temp_directory_path() / ("hearth-audit-" + std::to_string(getpid()));
    std::filesystem::create_directories(directory);
    const auto path = directory / "audit.log";
    {
        std::string error;
        // A queue longer than the burst: nothing may be dropped however slow the disk.
        auto trail = AuditTrail::open({path.string(), 4096, 2, 256}, "node-a", error);
        ASSERT_NE(trail, nullptr) << error;
        for (int i = 0; i < 100; ++i) {
            trail->record("s1", R"({"event":"allocation_created","n":)" + std::to_string(i) +
                                    std::string(60, ' ') + "}");
        }
        EXPECT_EQ(trail->counts().file_dropped, 0u);
    }
    std::ifstream file(path);
    std::string line;
    std::string last;
    while (std::getline(file, line)) {
        last = line;
    }
    EXPECT_NE(last.find(R"("n":99)"), std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(directory / "audit.1.log"));  // 4 kB reached: rotated

    // spdlog makes missing directories; under a regular file it cannot.
    std::ofstream(directory / "a-file") << "x";
    std::string error;
    EXPECT_EQ(AuditTrail::open({(directory / "a-file" / "audit.log").string()}, "n", error),
              nullptr);
    EXPECT_FALSE(error.empty());
    std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace hearth::relay
