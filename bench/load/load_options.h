#pragma once

// hearth-load's command line: what to load a TURN server with, and how to report it.

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "relay/stun/transport_address.h"

namespace hearth::load {

// Every packet starts with who sent it, when, and its number (load_traffic.cpp).
constexpr unsigned min_payload_bytes = 24;

enum class Transport { udp, tcp, tls };

enum class DataMode { channel, send };  // ChannelData or Send/Data indications

struct LoadOptions {
    TransportAddress server = *TransportAddress::parse("127.0.0.1:3478");
    std::string secret;            // the server's REST API secret
    std::string session = "load";  // the username's session id (hearth) / prefix (coturn)
    std::string user = "load";
    // More than 1: client i uses session "<session>-<i % sessions>", for more allocations
    // than one session may hold (a session's allocation_cap is at most 10 000).
    unsigned sessions = 1;
    Transport transport = Transport::udp;
    unsigned allocations = 10;
    DataMode mode = DataMode::channel;
    unsigned payload_bytes = 160;       // at least min_payload_bytes
    unsigned rate_per_allocation = 50;  // packets a second each client sends
    double duration_seconds = 10;
    bool client_to_client = false;  // allocations send to each other, not to an echo peer
    // No TURN: plain datagrams to --server, which forwards them to the echo peer on
    // --echo-port and back (bench/limit's udp-forwarder).
    bool raw = false;
    std::uint16_t echo_port = 0;  // 0: any
    // Not empty: the load's datagrams are turned around by an XDP program on this interface
    // (the load's end of a veth pair) instead of paced by hearth-load (bounce_traffic.h).
    std::string bounce_interface;
    unsigned in_flight = 4;  // with --bounce: packets each client starts
    int server_pid = 0;      // whose CPU time to read from /proc; 0: none
    bool json = false;
};

// Parses argv; an error is one line for stderr (exit status 2).
std::expected<LoadOptions, std::string> parse_load_options(const std::vector<std::string>& args);

extern const char* const load_usage;

}  // namespace hearth::load
