#!/usr/bin/env python3
"""hearthd from 1000 allocations to the descriptor limit, with and without the XDP fast
path (run through bench/compare.sh --scale, in a network namespace whose lo forwards).

For each count, a fresh hearthd: hearth-load sets up the allocations (their setup rate,
the server's CPU per setup, its RSS per allocation), then relays 20 000 packets/s in total
across all of them (at least one a second each). The machine's busy CPU per relayed
packet is taken as in compare_servers.py, less a run against another fresh hearthd that
only sets the allocations up and sends for a tenth of a second: relaying's share alone.
"""

import os
import resource
import statistics
import sys
import tempfile

import compare_servers as bench

OFFERED_PACKETS_PER_SECOND = 20_000


def largest_count():
    """What both ends fit under RLIMIT_NOFILE: hearth-load holds a socket per allocation,
    hearthd a relay socket per allocation (a UDP-only node), each with a few dozen more."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return (soft - 200) // 100 * 100


def run(arguments, workers, directory, fast_path, count, rate, seconds):
    """hearth-load against a fresh hearthd with room for `count` allocations, spread over
    sessions of at most 10 000 (a session's largest allocation_cap)."""
    sessions = -(-count // 10_000)
    server = bench.start_hearthd(arguments.hearthd, workers, directory, fast_path,
                                 relay_ports=(2000, 31999), max_allocations=count + 100,
                                 sessions=sessions)
    try:
        return bench.load(arguments.hearth_load, server, "--allocations", str(count), "--rate",
                          str(rate), "--duration", str(seconds), "--sessions", str(sessions))
    finally:
        server.stop()


def main():
    parser = bench.script_parser(__doc__, "--scale", rounds=2, seconds=5)
    arguments = parser.parse_args()
    workers = os.cpu_count() or 1
    top = largest_count()
    counts = [count for count in (1000, 5000, 10000, 15000) if count < top] + [top]
    results = {}  # (server, count, figure) -> [values]

    with tempfile.TemporaryDirectory() as directory:
        for round_number in range(arguments.rounds):
            for count in counts:
                for fast_path in ((False, True) if round_number % 2 == 0 else (True, False)):
                    name = "hearthd+xdp" if fast_path else "hearthd"
                    rate = max(1, OFFERED_PACKETS_PER_SECOND // count)
                    full = run(arguments, workers, directory, fast_path, count, rate,
                               arguments.seconds)
                    setup = run(arguments, workers, directory, fast_path, count, 1, 0.1)
                    relayed = full["relayed_packets"] - setup["relayed_packets"]
                    busy = full["machine_busy_seconds"] - setup["machine_busy_seconds"]
                    figures = {
                        "setup": full["allocations_per_second"],
                        "setup cpu": 1e6 * full.get("server_setup_cpu_seconds", 0) / count,
                        "rss": full.get("server_rss_bytes_per_allocation", 0),
                        "rate": full["packets_per_second"],
                        "machine": relayed / busy if busy > 0 else float("nan"),
                        "server": full.get("packets_per_server_cpu_second", 0),
                        "loss": full["loss_percent"],
                    }
                    for figure, value in figures.items():
                        results.setdefault((name, count, figure), []).append(value)

    def median(*key):
        values = results.get(key, [])
        return statistics.median(values) if values else float("nan")

    print(f"hearthd, {workers} workers, {arguments.rounds} rounds, medians; hearth-load relays "
          f"{OFFERED_PACKETS_PER_SECOND} packets/s in total (at least 1/s per allocation) for "
          f"{arguments.seconds:g} s after setting them up")
    columns = (("setup", "setups/s", 0), ("setup cpu", "setup us", 0), ("rss", "RSS B/alloc", 0),
               ("rate", "relayed/s", 0), ("machine", "pkts/mach CPU-s", 0),
               ("server", "pkts/srv CPU-s", 0), ("loss", "loss %", 3))
    print(f"{'server':<13}{'allocations':>12}" + "".join(f"{c[1]:>17}" for c in columns))
    for name in ("hearthd", "hearthd+xdp"):
        for count in counts:
            print(f"{name:<13}{count:>12}" + "".join(
                f"{median(name, count, c[0]):>17.{c[2]}f}" for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
