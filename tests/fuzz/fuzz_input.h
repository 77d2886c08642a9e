#pragma once

// What every fuzz target shares: the libFuzzer entry point's bytes, seen as the codec does.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace hearth::fuzz {

inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const std::byte*>(data), size};
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace hearth::fuzz
