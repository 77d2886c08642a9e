#include "bench/load/load_options.h"

#include <charconv>

namespace hearth::load {

const char* const load_usage =
    "usage: hearth-load --secret S [options]\n"
    "  --server HOST:PORT       TURN server (127.0.0.1:3478)\n"
    "  --secret S               its REST API shared secret (required)\n"
    "  --session ID --user ID   username <expiry>:<session>:<user> (load, load)\n"
    "  --sessions N             spread the clients over sessions ID-0 .. ID-(N-1) (1: ID)\n"
    "  --transport udp|tcp|tls  how the clients reach the server (udp)\n"
    "  --allocations N          allocations, one client socket each (10)\n"
    "  --mode channel|send      ChannelData or Send indications (channel)\n"
    "  --payload BYTES          payload per packet, 24 to 1400 (160)\n"
    "  --rate PPS               packets a second per allocation (50)\n"
    "  --duration SECONDS       how long to send (10)\n"
    "  --client-to-client       allocations relay to each other instead of an echo peer\n"
    "  --raw                    no TURN: plain datagrams through a forwarder (bench/limit)\n"
    "  --echo-port PORT         the echo peer's port (any)\n"
    "  --bounce INTERFACE       the kernel turns the load around in XDP on INTERFACE, the\n"
    "                           load's end of a veth pair; no pacing: --rate is unused\n"
    "  --in-flight N            with --bounce: packets each client keeps going round (4)\n"
    "  --server-pid PID         read the server's CPU time from /proc/PID/stat\n"
    "  --json                   one JSON object instead of the table\n";

namespace {

template <typename Number>
bool read_number(const std::string& text, Number min, Number max, Number& out) {
    Number value{};
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || status != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
        return false;
    }
    out = value;
    return true;
}

}  // namespace

std::expected<LoadOptions, std::string> parse_load_options(const std::vector<std::string>& args) {
    LoadOptions options;
    bool in_flight_given = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& flag = args[i];
        if (flag == "--client-to-client") {
            options.client_to_client = true;
            continue;
        }
        if (flag == "--json") {
            options.json = true;
            continue;
        }
        if (flag == "--raw") {
            options.raw = true;
            continue;
        }
        if (i + 1 >= args.size()) {
            return std::unexpected(flag + " needs a value (see --help)");
        }
        const std::string& value = args[++i];
        bool good = true;
        if (flag == "--server") {
            const auto server = TransportAddress::parse(value);
            good = server.has_value();
            if (good) {
                options.server = *server;
            }
        } else if (flag == "--secret") {
            options.secret = value;
        } else if (flag == "--session") {
            options.session = value;
        } else if (flag == "--sessions") {
            good = read_number(value, 1u, 1'000u, options.sessions);
        } else if (flag == "--user") {
            options.user = value;
        } else if (flag == "--allocations") {
            good = read_number(value, 1u, 100'000u, options.allocations);
        } else if (flag == "--transport") {
            good = value == "udp" || value == "tcp" || value == "tls";
            options.transport = value == "tcp"   ? Transport::tcp
                                : value == "tls" ? Transport::tls
                                                 : Transport::udp;
        } else if (flag == "--mode") {
            good = value == "channel" || value == "send";
            options.mode = value == "send" ? DataMode::send : DataMode::channel;
        } else if (flag == "--payload") {
            good = read_number(value, min_payload_bytes, 1400u, options.payload_bytes);
        } else if (flag == "--rate") {
            good = read_number(value, 1u, 1'000'000u, options.rate_per_allocation);
        } else if (flag == "--duration") {
            good = read_number(value, 0.1, 86400.0, options.duration_seconds);
        } else if (flag == "--echo-port") {
            good = read_number(value, std::uint16_t{1}, std::uint16_t{65535}, options.echo_port);
        } else if (flag == "--bounce") {
            options.bounce_interface = value;
            good = !value.empty();
        } else if (flag == "--in-flight") {
            good = read_number(value, 1u, 10'000u, options.in_flight);
            in_flight_given = true;
        } else if (flag == "--server-pid") {
            good = read_number(value, 1, 1 << 30, options.server_pid);
        } else {
            return std::unexpected("unknown option " + flag + " (see --help)");
        }
        if (!good) {
            return std::unexpected("bad value for " + flag + ": " + value);
        }
    }
    if (options.secret.empty() && !options.raw) {
        return std::unexpected("--secret is required: the server's REST API shared secret");
    }
    if (options.client_to_client && options.allocations % 2 != 0) {
        return std::unexpected("--client-to-client needs an even number of allocations");
    }
    if (options.raw && options.transport != Transport::udp) {
        return std::unexpected("--raw is plain UDP");
    }
    if (options.raw && options.client_to_client) {
        return std::unexpected("--raw goes through an echo peer, not client to client");
    }
    if (!options.bounce_interface.empty() &&
        (options.transport != Transport::udp || options.mode != DataMode::channel)) {
        return std::unexpected("--bounce turns ChannelData over UDP around");
    }
    if (!options.bounce_interface.empty() && options.server.ip.family != AddressFamily::ipv4) {
        return std::unexpected("--bounce is IPv4 only");
    }
    if (in_flight_given && options.bounce_interface.empty()) {
        return std::unexpected("--in-flight goes with --bounce (paced runs take --rate)");
    }
    return options;
}

}  // namespace hearth::load
