#include "relay/net/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <limits>

namespace hearth::relay {

std::uint64_t raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 1024;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            limit = raised;
        }
    }
    return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<std::uint32_t>::max()
                                           : static_cast<std::uint64_t>(limit.rlim_cur);
}

bool means_out_of_descriptors(int error) {
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

std::uint64_t open_descriptor_count() {
    std::error_code error;
    std::uint64_t count = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
         it.increment(error)) {
        ++count;
    }
    return count;
}

std::uint32_t allocations_within(std::uint64_t limit, std::uint64_t reserved,
                                 std::uint64_t stream_connections) {
    if (limit <= reserved) {
        return 0;
    }
    const std::uint64_t left = limit - reserved;
    const std::uint64_t allocations = left - std::min(stream_connections, left / 2);
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(allocations, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace hearth::relay
