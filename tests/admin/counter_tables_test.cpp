// The counter tables are the one place a counter is defined (relay/turn/counter_table.h):
// every field of a group has exactly one row, so a counter added to a struct without its
// row, or with two, fails here rather than going missing from /metrics or the JSON.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <set>
#include <string>

#include "admin/counter_rendering.h"
#include "admin/json.h"
#include "admin/metrics.h"
#include "relay/net/io_counters.h"
#include "relay/turn/direction_counters.h"
#include "relay/turn/histogram.h"
#include "relay/turn/server_counters.h"

namespace hearth::admin {
namespace {

// A group's counters are its std::uint64_t members up to `counters_end` (what follows is
// not a counter: a flag, the retired traffic kept by direction). Every one of them has a
// row, and no row is shown nowhere. Two rows may name one sample (the UDP and the stream
// listeners' not-STUN drops are one figure, summed), so names are not checked for
// uniqueness here; each field is.
template <typename Group, typename Rows>
void expect_one_row_per_field(const Rows& rows, std::size_t counters_end = sizeof(Group)) {
    const Group group{};
    std::set<std::size_t> offsets;  // member pointers have no order; offsets do
    for (const auto& row : rows) {
        const auto offset =
            static_cast<std::size_t>(reinterpret_cast<const std::byte*>(&(group.*row.field)) -
                                     reinterpret_cast<const std::byte*>(&group));
        EXPECT_TRUE(offsets.insert(offset).second) << "two rows for " << row.json;
        EXPECT_FALSE(row.json.empty() && row.metric.empty()) << "a row shown nowhere";
    }
    std::set<std::size_t> every_counter;
    for (std::size_t offset = 0; offset < counters_end; offset += sizeof(std::uint64_t)) {
        every_counter.insert(offset);
    }
    EXPECT_EQ(offsets, every_counter) << "a counter without its row, or a row past the counters";
}

TEST(CounterTables, EachCounterOfEachGroupHasExactlyOneRow) {
    expect_one_row_per_field<turn::ServerCounters>(
        turn::server_counter_rows, offsetof(turn::ServerCounters, retired_client_to_peer));
    expect_one_row_per_field<turn::DirectionCounters>(turn::direction_counter_rows);
    expect_one_row_per_field<relay::IoCounters>(relay::io_counter_rows);
    expect_one_row_per_field<NodeFigures>(node_figure_rows,
                                          offsetof(NodeFigures, per_allocation_series));
}

template <typename Group, typename Rows>
void expect_each_exported_row_in(const std::string& text, const Rows& rows) {
    for (const auto& row : rows) {
        if (row.metric.empty()) {
            continue;
        }
        const std::string family(row.metric);
        EXPECT_NE(text.find("# HELP " + family + " "), std::string::npos) << family;
        EXPECT_NE(text.find("# TYPE " + family + " "), std::string::npos) << family;
        const std::string sample =
            row.labels.empty() ? family + " " : family + "{" + std::string(row.labels) + "} ";
        EXPECT_NE(text.find("\n" + sample), std::string::npos) << sample;
    }
}

TEST(CounterTables, EveryExportedRowIsASampleOfAFamilyWithOneHelpAndType) {
    Exposition exposition;
    exposition.add_rows(turn::server_counter_rows, turn::ServerCounters{});
    exposition.add_rows(turn::direction_counter_rows, turn::DirectionCounters{});
    exposition.add_rows(relay::io_counter_rows, relay::IoCounters{});
    exposition.add_rows(node_figure_rows, NodeFigures{});
    const std::string text = exposition.text();
    expect_each_exported_row_in<turn::ServerCounters>(text, turn::server_counter_rows);
    expect_each_exported_row_in<turn::DirectionCounters>(text, turn::direction_counter_rows);
    expect_each_exported_row_in<relay::IoCounters>(text, relay::io_counter_rows);
    expect_each_exported_row_in<NodeFigures>(text, node_figure_rows);
    // One HELP and one TYPE per family, however many rows and groups feed it.
    for (const std::string marker : {"# HELP ", "# TYPE "}) {
        std::set<std::string> families;
        for (auto start = text.find(marker); start != std::string::npos;
             start = text.find(marker, start + 1)) {
            const auto name_start = start + marker.size();
            const auto name = text.substr(name_start, text.find(' ', name_start) - name_start);
            EXPECT_TRUE(families.insert(name).second) << marker << name;
        }
    }
}

TEST(Exposition, RowsOfTwoGroupsNamingOneSampleAreSummed) {
    Exposition exposition;
    exposition.add("hearth_dropped_packets_total", CounterKind::counter, "Dropped.",
                   R"(reason="a")", 2);
    exposition.add("hearth_dropped_packets_total", CounterKind::counter, "Dropped.",
                   R"(reason="b")", 5);
    exposition.add("hearth_dropped_packets_total", CounterKind::counter, "Dropped.",
                   R"(reason="a")", 3);
    EXPECT_EQ(exposition.text(),
              "# HELP hearth_dropped_packets_total Dropped.\n"
              "# TYPE hearth_dropped_packets_total counter\n"
              "hearth_dropped_packets_total{reason=\"a\"} 5\n"
              "hearth_dropped_packets_total{reason=\"b\"} 5\n");
}

TEST(Exposition, AHistogramIsRenderedCumulativeWithInfSumAndCount) {
    turn::Histogram<3> histogram;
    constexpr std::array<double, 3> bounds{0.25, 0.5, 1};
    for (const double value : {0.125, 0.25, 0.375, 2.5}) {  // sums exactly
        histogram.observe(bounds, value);
    }
    Exposition exposition;
    exposition.add_histogram("x_seconds", "X.", "", bounds, histogram.counts, histogram.sum,
                             histogram.count);
    EXPECT_EQ(exposition.text(),
              "# HELP x_seconds X.\n"
              "# TYPE x_seconds histogram\n"
              "x_seconds_bucket{le=\"0.25\"} 2\n"
              "x_seconds_bucket{le=\"0.5\"} 3\n"
              "x_seconds_bucket{le=\"1\"} 3\n"
              "x_seconds_bucket{le=\"+Inf\"} 4\n"
              "x_seconds_sum 3.25\n"
              "x_seconds_count 4\n");
}

TEST(Exposition, ARealValueIsWrittenInFewestDigitsThatReadBackTheSame) {
    Exposition exposition;
    exposition.add_real("y_seconds", CounterKind::gauge, "Y.", R"(a="b")", 0.1);
    exposition.add_real("y_seconds", CounterKind::gauge, "Y.", R"(a="c")", 1700000000.25);
    EXPECT_EQ(exposition.text(),
              "# HELP y_seconds Y.\n# TYPE y_seconds gauge\n"
              "y_seconds{a=\"b\"} 0.1\ny_seconds{a=\"c\"} 1700000000.25\n");
}

TEST(CounterFields, ADottedNameIsAMemberOfAnObject) {
    CounterFields fields;
    fields.add("allocations", 3);
    fields.add("dropped.no_channel", 1);
    fields.add("dropped.no_permission", 2);
    Json json = Json::object();
    fields.write(json);
    EXPECT_EQ(json_text(json), R"({"allocations":3,"dropped":{"no_channel":1,"no_permission":2}})");
}

}  // namespace
}  // namespace hearth::admin
