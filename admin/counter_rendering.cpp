#include "admin/counter_rendering.h"

#include <algorithm>

namespace hearth::admin {

void Exposition::add(std::string_view family, CounterKind kind, std::string_view help,
                     std::string labels, std::uint64_t value) {
    auto found = std::find_if(families_.begin(), families_.end(),
                              [family](const Family& known) { return known.name == family; });
    if (found == families_.end()) {
        families_.push_back({std::string(family), kind, std::string(help), {}});
        found = std::prev(families_.end());
    }
    for (auto& sample : found->samples) {
        if (sample.labels == labels) {
            sample.value += value;
            return;
        }
    }
    found->samples.push_back({std::move(labels), value});
}

std::string Exposition::text() const {
    std::string text;
    for (const auto& family : families_) {
        text += "# HELP " + family.name + " " + family.help + "\n# TYPE " + family.name + " " +
                (family.kind == CounterKind::counter ? "counter" : "gauge") + "\n";
        for (const auto& sample : family.samples) {
            text += family.name;
            // Appended piece by piece: `" " + std::to_string(...)` makes GCC 12 at -O3
            // report a bogus -Wrestrict overlap (as in transport_address.cpp).
            if (!sample.labels.empty()) {
                text += '{';
                text += sample.labels;
                text += '}';
            }
            text += ' ';
            text += std::to_string(sample.value);
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
