#include "relay/net/audit_line.h"

#include <cstdio>
#include <ctime>

namespace hearth::relay {

namespace {

// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629 §4: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) {
            return 0;
        }
    }
    return length;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            const std::size_t length = utf8_sequence_length(text.substr(i));
            if (length == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD, one for each byte that is not UTF-8
                ++i;
            } else {
                out.append(text.substr(i, length));
                i += length;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
}

std::string rfc3339_utc(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto milliseconds_total = duration_cast<milliseconds>(time.time_since_epoch()).count();
    auto seconds_total = static_cast<std::time_t>(milliseconds_total / 1000);
    auto milliseconds_part = milliseconds_total % 1000;
    if (milliseconds_part < 0) {  // before 1970: floor, not truncate
        milliseconds_part += 1000;
        --seconds_total;
    }
    std::tm utc{};
    gmtime_r(&seconds_total, &utc);
    char text[80];  // room for any int the fields could hold, so no truncation warning
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(milliseconds_part));
    return text;
}

AuditLine::AuditLine() : text_("{") {}

void AuditLine::name(std::string_view field_name) {
    if (!first_) {
        text_ += ',';
    }
    first_ = false;
    text_ += '"';
    append_json_string(text_, field_name);
    text_ += "\":";
}

AuditLine& AuditLine::field(std::string_view field_name, std::string_view text) {
    name(field_name);
    text_ += '"';
    append_json_string(text_, text);
    text_ += '"';
    return *this;
}

AuditLine& AuditLine::field(std::string_view field_name, std::int64_t number) {
    name(field_name);
    text_ += std::to_string(number);
    return *this;
}

AuditLine& AuditLine::field(std::string_view field_name, std::uint64_t number) {
    name(field_name);
    text_ += std::to_string(number);
    return *this;
}

AuditLine& AuditLine::field(std::string_view field_name, const std::vector<std::string>& texts) {
    name(field_name);
    text_ += '[';
    for (std::size_t i = 0; i < texts.size(); ++i) {
        text_ += i == 0 ? "\"" : ",\"";
        append_json_string(text_, texts[i]);
        text_ += '"';
    }
    text_ += ']';
    return *this;
}

AuditLine& AuditLine::begin_object(std::string_view field_name) {
    name(field_name);
    text_ += '{';
    first_ = true;
    return *this;
}

AuditLine& AuditLine::end_object() {
    text_ += '}';
    first_ = false;
    return *this;
}

std::string AuditLine::finish() {
    text_ += '}';
    return std::move(text_);
}

}  // namespace hearth::relay
