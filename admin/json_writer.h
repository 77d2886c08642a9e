#pragma once

// A small JSON writer for the admin API: objects, arrays, strings escaped per RFC 8259.

#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::admin {

class JsonWriter {
  public:
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);
    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(std::int64_t number);
    JsonWriter& value(std::uint64_t number);
    JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
    JsonWriter& value(unsigned number) { return value(static_cast<std::uint64_t>(number)); }
    JsonWriter& value(double number);
    JsonWriter& value(bool flag);
    JsonWriter& null();
    template <typename T>
    JsonWriter& field(std::string_view name, const T& field_value) {
        return key(name).value(field_value);
    }
    std::string take() { return std::move(text_); }

  private:
    void separate();
    std::string text_;
    bool needs_comma_ = false;
};

std::string json_escape(std::string_view text);

}  // namespace hearth::admin
