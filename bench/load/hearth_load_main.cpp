// hearth-load: a TURN load generator. Sets up N allocations with REST API credentials,
// drives paced traffic through them, and reports rates, loss, latency and the server's CPU.

#include <sys/socket.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/load/bounce_traffic.h"
#include "bench/load/load_options.h"
#include "bench/load/load_report.h"
#include "bench/load/load_traffic.h"
#include "bench/load/process_cpu.h"
#include "bench/load/turn_setup.h"
#include "relay/net/descriptor_limit.h"

using namespace hearth;
using namespace hearth::load;

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "hearth-load: %s\n", message.c_str());
    return 1;
}

// Allocates for every client (not with --raw), with the setup's time and CPU in `report`.
bool set_up(const LoadOptions& options, LoadClients& clients, LoadReport& report,
            std::string& error) {
    if (options.server_pid != 0) {
        report.server_rss_before_kib = process_rss_kib(options.server_pid);
    }
    std::chrono::duration<double> setup{};
    const auto server_before_setup =
        options.server_pid != 0 ? process_cpu_seconds(options.server_pid) : std::nullopt;
    const double own_before_setup = own_cpu_seconds();
    if (!options.raw && !clients.allocate(setup, error)) {
        return false;
    }
    report.setup_seconds = setup.count();
    report.own_setup_cpu_seconds = own_cpu_seconds() - own_before_setup;
    if (server_before_setup) {
        if (const auto after = process_cpu_seconds(options.server_pid)) {
            report.server_setup_cpu_seconds = *after - *server_before_setup;
        }
    }
    return true;
}

// Where each client's packets go: its partner's relayed address (--client-to-client), or
// an echo peer on the address the clients reach the server from. Null echo when none.
bool choose_peers(const LoadOptions& options, std::vector<LoadClient>& all,
                  std::unique_ptr<EchoPeer>& echo, std::string& error) {
    if (options.client_to_client) {
        for (std::size_t i = 0; i < all.size(); ++i) {
            const std::size_t partner = i % 2 == 0 ? (i + 1) % all.size() : i - 1;
            all[i].peer = all[partner].relayed;
        }
        return true;
    }
    const auto local = all.front().connection->local_address();
    if (!local) {
        error = "cannot tell the local address";
        return false;
    }
    echo = std::make_unique<EchoPeer>(local->ip, options.echo_port, error);
    if (!error.empty()) {
        return false;
    }
    for (auto& client : all) {
        client.peer = echo->address();
    }
    return true;
}

// The traffic, with the server's CPU and RSS around it in `report`. Not the server's CPU
// with --bounce, whose figures are a window's within the run (the machine's CPU is read
// over that window instead).
TrafficResult measure_traffic(const LoadOptions& options, std::vector<LoadClient>& all,
                              EchoPeer* echo, LoadReport& report, std::string& error) {
    if (options.server_pid != 0) {
        report.server_rss_allocated_kib = process_rss_kib(options.server_pid);
    }
    const auto server_before = options.server_pid != 0 && options.bounce_interface.empty()
                                   ? process_cpu_seconds(options.server_pid)
                                   : std::nullopt;
    const double own_before = own_cpu_seconds();
    TrafficResult traffic = options.bounce_interface.empty()
                                ? run_traffic(options, all, echo)
                                : run_bounced_traffic(options, all, echo, error);
    report.own_cpu_seconds = own_cpu_seconds() - own_before;
    if (server_before) {
        if (const auto server_after = process_cpu_seconds(options.server_pid)) {
            report.server_cpu_seconds = *server_after - *server_before;
        }
    }
    return traffic;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (const auto& arg : args) {
        if (arg == "-h" || arg == "--help") {
            std::fputs(load_usage, stdout);
            return 0;
        }
    }
    const auto parsed = parse_load_options(args);
    if (!parsed) {
        std::fprintf(stderr, "hearth-load: %s\n", parsed.error().c_str());
        return 2;
    }
    const LoadOptions& options = *parsed;
    relay::raise_descriptor_limit();

    std::string error;
    LoadClients clients(options, error);
    LoadReport report;
    std::unique_ptr<EchoPeer> echo;
    if (!error.empty() || !set_up(options, clients, report, error) ||
        !choose_peers(options, clients.all(), echo, error) ||
        (!options.raw && !clients.open_paths(options.mode, error))) {
        return fail(error);
    }
    const TrafficResult traffic =
        measure_traffic(options, clients.all(), echo.get(), report, error);
    report.traffic = &traffic;
    if (!options.raw) {
        clients.release();
    }
    if (!error.empty()) {
        return fail(error);
    }
    const std::string text =
        options.json ? format_json(options, report) : format_table(options, report);
    std::fputs(text.c_str(), stdout);
    return 0;
}
