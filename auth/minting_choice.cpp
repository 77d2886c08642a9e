#include "auth/minting_choice.h"

#include <algorithm>

namespace hearth::auth {

namespace {

bool holds(const SecretReport& report, const std::string& name) {
    return std::find(report.begin(), report.end(), name) != report.end();
}

}  // namespace

MintingChoice choose_minting_secret(const SecretRing& ring, std::span<const SecretReport> others) {
    MintingChoice choice;
    const auto secrets = ring.active();
    if (secrets.empty()) {
        return choice;
    }
    // From the newest down: the first one every other node holds.
    for (auto secret = secrets.rbegin(); secret != secrets.rend(); ++secret) {
        const bool everywhere = std::all_of(others.begin(), others.end(), [&](const auto& report) {
            return holds(report, secret->name);
        });
        if (everywhere) {
            choice.secret = &*secret;
            break;
        }
    }
    if (choice.secret == nullptr) {
        choice.secret = &secrets.back();
        choice.none_held_by_all = true;
        return choice;
    }
    if (choice.secret != &secrets.back()) {
        for (std::size_t i = 0; i < others.size(); ++i) {
            if (!holds(others[i], secrets.back().name)) {
                choice.waiting_for.push_back(i);
            }
        }
    }
    return choice;
}

std::string report_text(const SecretRing& ring) {
    std::string text;
    for (const auto& secret : ring.active()) {
        text += (text.empty() ? "" : " ") + secret.name;
    }
    return text;
}

SecretReport parse_report(std::string_view text) {
    SecretReport names;
    while (!text.empty()) {
        const auto space = text.find(' ');
        const auto name = text.substr(0, space);
        if (!name.empty()) {
            names.emplace_back(name);
        }
        text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    }
    return names;
}

}  // namespace hearth::auth
