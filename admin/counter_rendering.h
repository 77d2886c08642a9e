#pragma once

// Counter tables (relay/turn/counter_table.h) rendered: as a Prometheus exposition and as
// JSON fields. Rows of different groups that name the same sample (the same family and
// labels, or the same JSON name) are one figure, their sum.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "admin/json.h"
#include "relay/turn/counter_table.h"

namespace hearth::admin {

// Prometheus text format 0.0.4: every family's HELP, TYPE and samples together, families
// in the order they were first added.
class Exposition {
  public:
    void add(std::string_view family, CounterKind kind, std::string_view help, std::string labels,
             std::uint64_t value);
    // Every exported row of `rows` for `group`, with `extra_labels` before the row's own.
    template <typename Group, typename Rows>
    void add_rows(const Rows& rows, const Group& group, std::string_view extra_labels = "") {
        for (const auto& row : rows) {
            if (row.metric.empty()) {
                continue;
            }
            std::string labels(extra_labels);
            if (!labels.empty() && !row.labels.empty()) {
                labels += ",";
            }
            labels += row.labels;
            add(row.metric, row.kind, row.help, std::move(labels), group.*row.field);
        }
    }
    // A sample whose value is not a whole number (seconds, a ratio).
    void add_real(std::string_view family, CounterKind kind, std::string_view help,
                  std::string labels, double value);
    // A histogram's buckets (bounds.size() + 1 counts, not cumulative, the last above every
    // bound), with its sum and count: rendered cumulative, with le="+Inf".
    void add_histogram(std::string_view family, std::string_view help, const std::string& labels,
                       std::span<const double> bounds, std::span<const std::uint64_t> counts,
                       double sum, std::uint64_t count);
    std::string text() const;

  private:
    enum class Type : std::uint8_t { counter, gauge, histogram };
    struct Sample {
        std::string suffix;  // _bucket, _sum, _count of a histogram; "" otherwise
        std::string labels;
        std::uint64_t value = 0;
        double real = 0;
        bool is_real = false;
    };
    struct Family {
        std::string name;
        Type type;
        std::string help;
        std::vector<Sample> samples;
    };
    Family& family_named(std::string_view family, Type type, std::string_view help);
    std::vector<Family> families_;
};

// JSON members from counter rows, set on a JSON object; "a.b" names become member b of an
// object a.
class CounterFields {
  public:
    void add(std::string_view name, std::uint64_t value);
    template <typename Group, typename Rows>
    void add_rows(const Rows& rows, const Group& group) {
        for (const auto& row : rows) {
            if (!row.json.empty()) {
                add(row.json, group.*row.field);
            }
        }
    }
    void write(Json& object) const;

  private:
    std::vector<std::pair<std::string, std::uint64_t>> fields_;
};

}  // namespace hearth::admin
