#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::auth {

// RFC 4648 §4 base64 with padding.
std::string base64_encode(std::span<const std::byte> bytes);
std::optional<std::vector<std::byte>> base64_decode(std::string_view text);

}  // namespace hearth::auth
