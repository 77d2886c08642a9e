#!/usr/bin/env python3
"""What the multiplexing listener (listen.mux) costs against a dedicated one: one hearthd
with a TCP, a TLS and a mux listener; hearth-load opens the same TCP and TLS allocations
through each in turn (the order flips every round) and relays the same traffic. The table
shows the medians of the allocation setup rate (where the first-bytes step is paid, once
per connection) and of the packets relayed per server CPU-second (where it is not paid).

Run: python3 bench/mux_cost.py --hearthd build/admin/hearthd \\
         --hearth-load build/bench/load/hearth-load [--rounds 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from compare_servers import SECRET, Server, free_port, load


def certificate(directory):
    cert, key = (os.path.join(directory, name) for name in ("cert.pem", "key.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def start_hearthd(binary, directory):
    port, tls_port, mux_port = free_port(), free_port(), free_port()
    cert, key = certificate(directory)
    config = os.path.join(directory, "hearth.conf")
    with open(config, "w") as file:
        file.write(f"""
log_level = "warn";
workers = 2;
listen = {{ udp = [ "127.0.0.1:{port}" ]; tcp = [ "127.0.0.1:{port}" ];
           tls = [ "127.0.0.1:{tls_port}" ]; mux = [ "127.0.0.1:{mux_port}" ]; }};
tls = {{ certificate = "{cert}"; private_key = "{key}"; }};
relay = {{ ipv4 = "127.0.0.1"; port_min = 2000; port_max = 16999; }};
auth = {{ secrets = ( {{ name = "compare"; value = "{SECRET}"; }} ); }};
session_store = {{ kind = "embedded"; sessions = (
    {{ id = "load"; state = "active"; participants = [ "load" ]; allocation_cap = 10000; }}
); }};
limits = {{ max_allocations_per_user = 100000; unauthenticated_requests_per_second = 0;
           allocate_requests_per_second = 0; upkeep_requests_per_second = 0;
           allocation_bandwidth_bps = 0; session_bandwidth_bps = 0;
           max_connections_per_source = 100000; }};
peer_policy = {{ allow = [ "127.0.0.0/8" ]; }};
admin = {{ listen = ""; }};
""")
    server = Server("hearthd", [binary, "--config", config], port,
                    os.path.join(directory, "hearthd.log"))
    server.listeners = {"tcp": port, "tls": tls_port, "mux": mux_port}
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hearthd", required=True)
    parser.add_argument("--hearth-load", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--allocations", type=int, default=100)
    parser.add_argument("--rate", type=int, default=100, help="packets a second per allocation")
    parser.add_argument("--seconds", type=int, default=5)
    arguments = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        server = start_hearthd(arguments.hearthd, directory)
        try:
            for round_number in range(arguments.rounds):
                for transport in ("tcp", "tls"):
                    listeners = [transport, "mux"]
                    if round_number % 2:
                        listeners.reverse()
                    for listener in listeners:
                        server.port = server.listeners[listener]
                        report = load(arguments.hearth_load, server, "--transport", transport,
                                      "--allocations", str(arguments.allocations), "--rate",
                                      str(arguments.rate), "--payload", "161", "--duration",
                                      str(arguments.seconds))
                        if report["received"] != report["sent"]:
                            print(f"warning: {transport} via {listener} lost "
                                  f"{report['sent'] - report['received']}", file=sys.stderr)
                        key = (transport, listener)
                        figures.setdefault(key, []).append(report)
        finally:
            server.stop()
    print(f"{'transport':9} {'listener':9} {'setups/s':>9} {'packets/server CPU-s':>21} "
          f"{'p99 latency us':>15}")
    for (transport, listener), reports in sorted(figures.items()):
        def median(field, reports=reports):
            return statistics.median(report[field] for report in reports)
        print(f"{transport:9} {listener:9} {median('allocations_per_second'):9.0f} "
              f"{median('packets_per_server_cpu_second'):21.0f} "
              f"{statistics.median(r['latency_us']['p99'] for r in reports):15.0f}")


if __name__ == "__main__":
    main()
