#include "relay/net/log_rate_limit.h"

namespace hearth::relay {

bool LogRateLimit::allow(turn::TimePoint now, std::uint64_t& left_out) {
    if (now - window_start_ >= std::chrono::seconds(1)) {
        window_start_ = now;
        written_in_window_ = 0;
    }
    if (written_in_window_ >= per_second_) {
        ++left_out_;
        return false;
    }
    ++written_in_window_;
    left_out = left_out_;
    left_out_ = 0;
    return true;
}

}  // namespace hearth::relay
