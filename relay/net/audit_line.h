#pragma once

// One audit event as one line of JSON (RFC 8259): an object of named fields, flat but for
// the per-direction traffic objects. Text is escaped, and bytes that are not UTF-8 become
// U+FFFD, so a line always parses whatever a username or session id holds. The admin API
// has its own (admin/json.h, nlohmann-json); the socket layer may not reach up to it, and an
// audit line needs less: no arrays of objects, no floating point, never pretty.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::relay {

class AuditLine {
  public:
    AuditLine();
    AuditLine& field(std::string_view name, std::string_view text);
    AuditLine& field(std::string_view name, const char* text) {
        return field(name, std::string_view(text));
    }
    AuditLine& field(std::string_view name, std::int64_t number);
    AuditLine& field(std::string_view name, std::uint64_t number);
    AuditLine& field(std::string_view name, int number) {
        return field(name, static_cast<std::int64_t>(number));
    }
    AuditLine& field(std::string_view name, const std::vector<std::string>& texts);
    // A nested object: fields until end_object() go into it.
    AuditLine& begin_object(std::string_view name);
    AuditLine& end_object();
    // The line, closed, without a newline.
    std::string finish();

  private:
    void name(std::string_view field_name);
    std::string text_;
    bool first_ = true;
};

// `text` as the inside of a JSON string: quote, backslash and control characters escaped,
// what is not well-formed UTF-8 replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// RFC 3339 in UTC with milliseconds: 2026-12-02T09:40:42.123Z.
std::string rfc3339_utc(std::chrono::system_clock::time_point time);

}  // namespace hearth::relay
