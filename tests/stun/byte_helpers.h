#pragma once

// Byte-building helpers shared by the codec tests.

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relay/stun/message.h"

namespace hearth::stun::testing {

inline std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (const int value : values) {
        out.push_back(static_cast<std::byte>(value));
    }
    return out;
}

// Hex digits in either case; anything else (spaces in transcriptions) is skipped.
inline std::vector<std::byte> from_hex(std::string_view hex) {
    std::vector<std::byte> out;
    int high = -1;
    for (const char c : hex) {
        int value = -1;
        if (c >= '0' && c <= '9') {
            value = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            value = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            value = c - 'A' + 10;
        }
        if (value < 0) {
            continue;
        }
        if (high < 0) {
            high = value;
        } else {
            out.push_back(static_cast<std::byte>(high * 16 + value));
            high = -1;
        }
    }
    return out;
}

inline std::string to_hex(std::span<const std::byte> data) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (const auto byte : data) {
        hex += digits[std::to_integer<int>(byte) >> 4];
        hex += digits[std::to_integer<int>(byte) & 0xF];
    }
    return hex;
}

inline Bytes text(std::string_view value) {
    return {reinterpret_cast<const std::byte*>(value.data()), value.size()};
}

inline void append(std::vector<std::byte>& out, std::span<const std::byte> more) {
    out.insert(out.end(), more.begin(), more.end());
}

// An attribute header and value, padded with `pad` to four bytes.
inline std::vector<std::byte> attribute_bytes(std::uint16_t type, std::span<const std::byte> value,
                                              int pad = 0) {
    auto out = bytes({type >> 8, type & 0xFF, static_cast<int>(value.size() >> 8),
                      static_cast<int>(value.size() & 0xFF)});
    append(out, value);
    while (out.size() % 4 != 0) {
        out.push_back(static_cast<std::byte>(pad));
    }
    return out;
}

constexpr TransactionId test_transaction_id = {
    std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},  std::byte{5},  std::byte{6},
    std::byte{7}, std::byte{8}, std::byte{9}, std::byte{10}, std::byte{11}, std::byte{12}};

// A Binding request header claiming `length`, followed by `body` as given.
inline std::vector<std::byte> message_bytes(std::size_t length, std::span<const std::byte> body) {
    auto out = bytes({0x00, 0x01, static_cast<int>(length >> 8), static_cast<int>(length & 0xFF),
                      0x21, 0x12, 0xA4, 0x42});
    append(out, test_transaction_id);
    append(out, body);
    return out;
}

// A Binding request whose header length matches the attributes given.
inline std::vector<std::byte> message_with(
    std::initializer_list<std::vector<std::byte>> attributes) {
    std::vector<std::byte> body;
    for (const auto& attribute : attributes) {
        append(body, attribute);
    }
    return message_bytes(body.size(), body);
}

}  // namespace hearth::stun::testing
