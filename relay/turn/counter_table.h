#pragma once

// Counters defined once. A group of counters is a struct of std::uint64_t fields; its
// table says, for each field, how the field is shown: as a Prometheus sample (family,
// labels, kind, help) and as a field of the admin API's JSON. Summing over workers,
// /metrics, the JSON of /v1/allocations and /v1/status, and so the admin page, all read the
// tables: adding a counter is one row in its group's table and the line that counts it.

#include <cstdint>
#include <string_view>

namespace hearth {

enum class CounterKind : std::uint8_t { counter, gauge };

template <typename Group>
struct CounterRow {
    std::string_view json;    // its name in JSON; "a.b" is field b of object a; "" = none
    std::string_view metric;  // its Prometheus family; "" = not exported
    std::string_view labels;  // its labels in that family, e.g. reason="no_channel"
    CounterKind kind;
    std::string_view help;  // the family's HELP text (the first row of a family gives it)
    std::uint64_t Group::*field;
};

// total += part, field by field, for every row of `rows`.
template <typename Group, typename Rows>
void add_counters(Group& total, const Group& part, const Rows& rows) {
    for (const auto& row : rows) {
        total.*row.field += part.*row.field;
    }
}

}  // namespace hearth
