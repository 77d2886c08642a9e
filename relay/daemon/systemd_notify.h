#pragma once

// The sd_notify protocol (a datagram to $NOTIFY_SOCKET), without libsystemd: READY=1,
// RELOADING=1, STOPPING=1, WATCHDOG=1. Does nothing when not run by systemd.

#include <chrono>
#include <optional>
#include <string_view>

namespace hearth::relay {

bool systemd_notify(std::string_view state);
// WATCHDOG_USEC when systemd asked for keep-alives (and WATCHDOG_PID is ours).
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

}  // namespace hearth::relay
