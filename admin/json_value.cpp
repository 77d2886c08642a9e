#include "admin/json_value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hearth::admin {

namespace {

constexpr int max_depth = 32;

class Parser {
  public:
    explicit Parser(std::string_view text) : text_(text) {}

    std::optional<JsonValue> document() {
        auto value = parse(0);
        skip_space();
        if (!value || position_ != text_.size()) {
            return std::nullopt;
        }
        return value;
    }

  private:
    void skip_space() {
        while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\n' ||
                                            text_[position_] == '\r' || text_[position_] == '\t')) {
            ++position_;
        }
    }

    bool consume(std::string_view word) {
        if (text_.substr(position_, word.size()) == word) {
            position_ += word.size();
            return true;
        }
        return false;
    }

    std::optional<std::string> string() {
        if (!consume("\"")) {
            return std::nullopt;
        }
        std::string out;
        while (position_ < text_.size()) {
            const char c = text_[position_++];
            if (c == '"') {
                return out;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (position_ >= text_.size()) {
                return std::nullopt;
            }
            const char escaped = text_[position_++];
            switch (escaped) {
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'u': {
                    if (position_ + 4 > text_.size()) {
                        return std::nullopt;
                    }
                    const unsigned code =
                        std::strtoul(std::string(text_.substr(position_, 4)).c_str(), nullptr, 16);
                    position_ += 4;
                    out += code < 0x80 ? static_cast<char>(code) : '?';
                    break;
                }
                default:
                    out += escaped;
            }
        }
        return std::nullopt;
    }

    std::optional<JsonValue> parse(int depth) {
        if (depth > max_depth) {
            return std::nullopt;
        }
        skip_space();
        if (position_ >= text_.size()) {
            return std::nullopt;
        }
        const char c = text_[position_];
        if (c == '{') {
            ++position_;
            JsonValue::Object object;
            skip_space();
            if (consume("}")) {
                return JsonValue{std::move(object)};
            }
            for (;;) {
                skip_space();
                auto key = string();
                skip_space();
                if (!key || !consume(":")) {
                    return std::nullopt;
                }
                auto value = parse(depth + 1);
                if (!value) {
                    return std::nullopt;
                }
                object.emplace(std::move(*key), std::move(*value));
                skip_space();
                if (consume("}")) {
                    return JsonValue{std::move(object)};
                }
                if (!consume(",")) {
                    return std::nullopt;
                }
            }
        }
        if (c == '[') {
            ++position_;
            JsonValue::Array array;
            skip_space();
            if (consume("]")) {
                return JsonValue{std::move(array)};
            }
            for (;;) {
                auto value = parse(depth + 1);
                if (!value) {
                    return std::nullopt;
                }
                array.push_back(std::move(*value));
                skip_space();
                if (consume("]")) {
                    return JsonValue{std::move(array)};
                }
                if (!consume(",")) {
                    return std::nullopt;
                }
            }
        }
        if (c == '"') {
            auto text = string();
            return text ? std::optional<JsonValue>(JsonValue{std::move(*text)}) : std::nullopt;
        }
        if (consume("true"))
            return JsonValue{true};
        if (consume("false"))
            return JsonValue{false};
        if (consume("null"))
            return JsonValue{nullptr};
        const std::string rest(text_.substr(position_, 64));
        char* end = nullptr;
        const double number = std::strtod(rest.c_str(), &end);
        if (end == rest.c_str()) {
            return std::nullopt;
        }
        position_ += static_cast<std::size_t>(end - rest.c_str());
        return JsonValue{number};
    }

    std::string_view text_;
    std::size_t position_ = 0;
};

}  // namespace

const JsonValue* JsonValue::get(std::string_view key) const {
    const auto* object = std::get_if<Object>(&data);
    if (object == nullptr) {
        return nullptr;
    }
    const auto found = object->find(key);
    return found == object->end() ? nullptr : &found->second;
}

std::string JsonValue::text() const {
    if (const auto* text = std::get_if<std::string>(&data)) {
        return *text;
    }
    if (const auto* number = std::get_if<double>(&data)) {
        char buffer[32];
        if (std::floor(*number) == *number && std::fabs(*number) < 1e15) {
            std::snprintf(buffer, sizeof buffer, "%.0f", *number);
        } else {
            std::snprintf(buffer, sizeof buffer, "%.2f", *number);
        }
        return buffer;
    }
    if (const auto* flag = std::get_if<bool>(&data)) {
        return *flag ? "true" : "false";
    }
    return "";
}

std::optional<JsonValue> parse_json(std::string_view text) {
    return Parser(text).document();
}

}  // namespace hearth::admin
