#include "auth/base64.h"

#include <array>

namespace hearth::auth {

namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}
}  // namespace

std::string base64_encode(std::span<const std::byte> bytes) {
    std::string text;
    text.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t left = bytes.size() - i;
        std::uint32_t chunk = std::to_integer<std::uint32_t>(bytes[i]) << 16;
        if (left > 1)
            chunk |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
        if (left > 2)
            chunk |= std::to_integer<std::uint32_t>(bytes[i + 2]);
        text += alphabet[(chunk >> 18) & 63];
        text += alphabet[(chunk >> 12) & 63];
        text += left > 1 ? alphabet[(chunk >> 6) & 63] : '=';
        text += left > 2 ? alphabet[chunk & 63] : '=';
    }
    return text;
}

std::optional<std::vector<std::byte>> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::vector<std::byte> bytes;
    bytes.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::array<int, 4> values{};
        int padding = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == '=' && last && j >= 2) {
                ++padding;
                values[j] = 0;
                continue;
            }
            if (padding > 0) {
                return std::nullopt;  // data after padding
            }
            values[j] = value_of(c);
            if (values[j] < 0) {
                return std::nullopt;
            }
        }
        const std::uint32_t chunk = (static_cast<std::uint32_t>(values[0]) << 18) |
                                    (static_cast<std::uint32_t>(values[1]) << 12) |
                                    (static_cast<std::uint32_t>(values[2]) << 6) |
                                    static_cast<std::uint32_t>(values[3]);
        bytes.push_back(static_cast<std::byte>(chunk >> 16));
        if (padding < 2)
            bytes.push_back(static_cast<std::byte>(chunk >> 8));
        if (padding < 1)
            bytes.push_back(static_cast<std::byte>(chunk));
    }
    return bytes;
}

std::string base64url_encode(std::span<const std::byte> bytes) {
    std::string text = base64_encode(bytes);
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    for (char& c : text) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return text;
}

std::optional<std::vector<std::byte>> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) {
        return std::nullopt;  // no byte count leaves a single character over
    }
    std::string standard(text);
    for (char& c : standard) {
        if (c == '+' || c == '/' || c == '=') {
            return std::nullopt;  // not in the base64url alphabet
        }
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    standard.append((4 - standard.size() % 4) % 4, '=');
    return base64_decode(standard);
}

}  // namespace hearth::auth
