#include "admin/counter_rendering.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

namespace hearth::admin {

Exposition::Family& Exposition::family_named(std::string_view family, Type type,
                                             std::string_view help) {
    auto found = std::find_if(families_.begin(), families_.end(),
                              [family](const Family& known) { return known.name == family; });
    if (found == families_.end()) {
        families_.push_back({std::string(family), type, std::string(help), {}});
        found = std::prev(families_.end());
    }
    return *found;
}

void Exposition::add(std::string_view family, CounterKind kind, std::string_view help,
                     std::string labels, std::uint64_t value) {
    auto& found =
        family_named(family, kind == CounterKind::counter ? Type::counter : Type::gauge, help);
    for (auto& sample : found.samples) {
        if (sample.labels == labels) {
            sample.value += value;
            return;
        }
    }
    found.samples.push_back({"", std::move(labels), value, 0, false});
}

void Exposition::add_real(std::string_view family, CounterKind kind, std::string_view help,
                          std::string labels, double value) {
    family_named(family, kind == CounterKind::counter ? Type::counter : Type::gauge, help)
        .samples.push_back({"", std::move(labels), 0, value, true});
}

namespace {

// Shortest text that reads back as the same double; Prometheus reads any of them.
std::string real_text(double value) {
    std::array<char, 32> text{};
    const auto written = std::snprintf(text.data(), text.size(), "%.17g", value);
    std::string shortest(text.data(), static_cast<std::size_t>(written));
    for (int precision = 1; precision < 17; ++precision) {
        std::snprintf(text.data(), text.size(), "%.*g", precision, value);
        if (std::strtod(text.data(), nullptr) == value) {
            return text.data();
        }
    }
    return shortest;
}

}  // namespace

void Exposition::add_histogram(std::string_view family, std::string_view help,
                               const std::string& labels, std::span<const double> bounds,
                               std::span<const std::uint64_t> counts, double sum,
                               std::uint64_t count) {
    auto& found = family_named(family, Type::histogram, help);
    const std::string prefix = labels.empty() ? "" : labels + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        const std::string le = i < bounds.size() ? real_text(bounds[i]) : "+Inf";
        found.samples.push_back({"_bucket", prefix + "le=\"" + le + "\"", cumulative, 0, false});
    }
    found.samples.push_back({"_sum", labels, 0, sum, true});
    found.samples.push_back({"_count", labels, count, 0, false});
}

std::string Exposition::text() const {
    std::string text;
    for (const auto& family : families_) {
        const char* type = family.type == Type::counter ? "counter"
                           : family.type == Type::gauge ? "gauge"
                                                        : "histogram";
        text += "# HELP " + family.name + " " + family.help + "\n# TYPE " + family.name + " " +
                type + "\n";
        for (const auto& sample : family.samples) {
            text += family.name;
            text += sample.suffix;
            // Appended piece by piece: `" " + std::to_string(...)` makes GCC 12 at -O3
            // report a bogus -Wrestrict overlap (as in transport_address.cpp).
            if (!sample.labels.empty()) {
                text += '{';
                text += sample.labels;
                text += '}';
            }
            text += ' ';
            text += sample.is_real ? real_text(sample.real) : std::to_string(sample.value);
            text += '\n';
        }
    }
    return text;
}

void CounterFields::add(std::string_view name, std::uint64_t value) {
    for (auto& [known, sum] : fields_) {
        if (known == name) {
            sum += value;
            return;
        }
    }
    fields_.emplace_back(std::string(name), value);
}

void CounterFields::write(Json& object) const {
    // Members of one nested object are written together, after the plain ones, wherever
    // their rows stood.
    for (const auto& [name, value] : fields_) {
        if (name.find('.') == std::string::npos) {
            object[name] = value;
        }
    }
    for (const auto& [name, value] : fields_) {
        const auto dot = name.find('.');
        if (dot != std::string::npos) {
            object[name.substr(0, dot)][name.substr(dot + 1)] = value;
        }
    }
}

}  // namespace hearth::admin
