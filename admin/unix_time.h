#pragma once

// Wall-clock time in whole seconds since 1970, as credentials, uptimes and the demo banner
// count it.

#include <chrono>
#include <cstdint>

namespace hearth::admin {

inline std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace hearth::admin
