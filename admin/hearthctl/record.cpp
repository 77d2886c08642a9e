#include "admin/hearthctl/record.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "admin/hearthctl/exit_codes.h"
#include "admin/hearthctl/http_client.h"
#include "admin/hearthctl/output.h"

namespace hearth::hearthctl {

namespace {

std::string printed(const char* format, double value) {
    char text[48];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

// "14:03:07" in UTC, or "-" for none.
std::string clock_time(double unix_ms) {
    if (unix_ms <= 0) {
        return "-";
    }
    const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &utc);
    return text;
}

std::string bytes_and_packets(const Json* leg) {
    return printed("%.1f kB", number(leg, "bytes") / 1000.0) +
           printed(" / %.0f pkt", number(leg, "packets"));
}

std::string loss(const Json* leg) {
    const double expected = number(leg, "rtp_expected");
    return expected > 0 ? printed("%.1f %%", 100.0 * number(leg, "rtp_lost") / expected) : "-";
}

std::string lowest_quality(const Json& summary) {
    const Json* lowest = member(&summary, "lowest_quality");
    if (lowest == nullptr || member(lowest, "score") == nullptr) {
        return "-";
    }
    return field(*lowest, "score") + " at " + clock_time(number(lowest, "at_unix_ms"));
}

std::string counts(const Json* object) {
    std::string text;
    if (object != nullptr && object->is_object()) {
        for (const auto& [reason, count] : object->items()) {
            const std::string value = admin::json_scalar_text(count);
            if (value != "0") {
                text += (text.empty() ? "" : " ") + reason + "=" + value;
            }
        }
    }
    return text.empty() ? "-" : text;
}

// One summary as a table row: the participant's or, named "(session)", the session's.
std::vector<std::string> summary_row(const std::string& name, const Json& summary) {
    const Json* up = member(&summary, "to_peer");
    const Json* down = member(&summary, "to_client");
    return {
        name,
        field(summary, "allocations"),
        printed("%.0f s", number(&summary, "duration_s")),
        bytes_and_packets(up),
        bytes_and_packets(down),
        printed("%.0f", number(up, "peak_bps") / 1000.0) +
            printed("/%.0f kbit/s", number(down, "peak_bps") / 1000.0),
        printed("%.0f", number(up, "mean_bps") / 1000.0) +
            printed("/%.0f kbit/s", number(down, "mean_bps") / 1000.0),
        loss(up) + " / " + loss(down),
        printed("%.1f", number(up, "jitter_ms")) + printed("/%.1f ms", number(down, "jitter_ms")),
        lowest_quality(summary),
        counts(member(&summary, "dropped")),
        counts(member(&summary, "allocations_ended"))};
}

void print_record(const Json& record) {
    const Json* summary = member(&record, "summary");
    std::printf("session %s: %s%s, started %s UTC, ended %s UTC\n",
                field(record, "session").c_str(), field(record, "state").c_str(),
                field(record, "end_reason").empty()
                    ? ""
                    : (" (" + field(record, "end_reason") + ")").c_str(),
                clock_time(number(summary, "started_unix_ms")).c_str(),
                clock_time(number(summary, "ended_unix_ms")).c_str());
    std::vector<std::vector<std::string>> rows;
    for (const auto& participant : elements(member(&record, "participants"))) {
        rows.push_back(summary_row(field(participant, "user"), participant));
    }
    if (summary != nullptr) {
        rows.push_back(summary_row("(session)", *summary));
    }
    print_table({"PARTICIPANT", "ALLOCATIONS", "DURATION", "TO PEER", "TO CLIENT", "PEAK UP/DOWN",
                 "MEAN UP/DOWN", "LOSS UP/DOWN", "JITTER UP/DOWN", "LOWEST QUALITY", "DROPPED",
                 "ALLOCATIONS ENDED"},
                rows);
}

void print_ended(const Json& answer) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& record : elements(member(&answer, "ended"))) {
        const Json* summary = member(&record, "summary");
        const auto* participants = member(&record, "participants");
        rows.push_back({field(record, "session"), clock_time(number(summary, "ended_unix_ms")),
                        field(record, "end_reason"),
                        printed("%.0f s", number(summary, "duration_s")),
                        std::to_string(elements(participants).size()),
                        bytes_and_packets(summary ? member(summary, "to_peer") : nullptr),
                        bytes_and_packets(summary ? member(summary, "to_client") : nullptr),
                        summary ? lowest_quality(*summary) : "-"});
    }
    if (rows.empty()) {
        std::puts("no session ended within the last hour");
        return;
    }
    print_table({"SESSION", "ENDED (UTC)", "REASON", "DURATION", "PARTICIPANTS", "TO PEER",
                 "TO CLIENT", "LOWEST QUALITY"},
                rows);
}

}  // namespace

int run_record(const Options& options) {
    if (options.session.empty()) {
        return finish(options, ask_node(options, "GET", "/v1/records"), print_ended);
    }
    return finish(
        options,
        ask_node(options, "GET", "/v1/sessions/" + url_encode(options.session) + "/record"),
        print_record);
}

}  // namespace hearth::hearthctl
