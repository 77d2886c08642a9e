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
// RFC 4648 §5 base64url without padding (§3.2).
std::string base64url_encode(std::span<const std::byte> bytes);
std::optional<std::vector<std::byte>> base64url_decode(std::string_view text);

}  // namespace hearth::auth
