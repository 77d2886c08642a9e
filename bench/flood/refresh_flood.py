#!/usr/bin/env python3
"""What a Refresh flood from one participant costs a worker while Redis answers later,
and what the other clients of that worker see meanwhile (issue 14's flaw).

Starts a redis-server and one hearthd (given binary, one worker, Redis session store) on
loopback. A participant at 127.0.0.2 with one UDP allocation sends --requests Refresh
requests as fast as it can; a second participant at 127.0.0.1 sends a Binding every 10 ms
and, once, an Allocate. Reports hearthd's CPU time from the flood until it is idle again,
the round trips of the Bindings during that time, and how long the Allocate took.

    python3 bench/flood/refresh_flood.py --hearthd build/admin/hearthd
    python3 bench/flood/refresh_flood.py --hearthd OLD --hearthd NEW   # both, in turn
"""

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
import harness  # noqa: E402  (the integration tests' STUN client and process helpers)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(hearthd, directory):
    redis_port = harness.free_port((socket.SOCK_STREAM,))
    redis = harness.Process(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"], "redis-server")
    redis.wait_for_line("Ready to accept connections")
    for command in (["HSET", "hearth:session:s1", "state", "active", "allocation_cap", "16"],
                    ["SADD", "hearth:session:s1:participants", "alice", "bob"],
                    ["SADD", "hearth:sessions", "s1"]):
        subprocess.run(["redis-cli", "-p", str(redis_port), *command], check=True,
                       capture_output=True)
    port = harness.free_port()
    config = harness.config_text(port, (48000, 48999)).replace("workers = 2;", "workers = 1;")
    config = config.replace('log_level = "debug";', 'log_level = "info";')
    config = config.replace('session_store = { kind = "embedded";',
                            f'session_store = {{ kind = "redis"; redis = {{ port = {redis_port}; '
                            'grace = 60; metrics_interval = 0; };')
    # The probe's Bindings (100 a second from one address) are opened past the default
    # 20 a second for unauthenticated requests, so that a lost one is the flood's doing.
    config += "limits = { unauthenticated_requests_per_second = 10000; };\n"
    path = os.path.join(directory, "hearth.conf")
    with open(path, "w") as file:
        file.write(config)
    node = harness.Process([hearthd, "--config", path], "hearthd", harness.signal.SIGINT)
    node.wait_for_line("hearthd ready:")
    node.wait_for_line("Redis 127.0.0.1")
    return redis, node, port


def attacker(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.2", 0))
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    client = harness.TurnClient(sock, user="alice")
    client.exchange = lambda request: (sock.send(request), sock.recv(4096))[1]
    client.allocate()
    return client


def measure(hearthd, requests):
    with tempfile.TemporaryDirectory() as directory:
        redis, node, port = start(hearthd, directory)
        try:
            flooder = attacker(port)
            flood = [harness.message(harness.REFRESH,
                                     [(0x000D, struct.pack("!I", 600)),
                                      (0x0006, flooder.username.encode()),
                                      (0x0014, b"hearth"), (0x0015, flooder.nonce.encode())],
                                     os.urandom(12), key=flooder.key) for _ in range(requests)]
            before = cpu_seconds(node.process.pid)
            started = time.monotonic()
            for request in flood:
                flooder.sock.send(request)
            sent = time.monotonic() - started

            victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            victim.settimeout(5)
            victim.connect(("127.0.0.1", port))
            allocating = harness.DatagramTurnClient(port, user="bob")
            allocating.sock.settimeout(30)
            allocate_started = time.monotonic()
            allocating.allocate()
            allocate_seconds = time.monotonic() - allocate_started

            round_trips = []
            unanswered = 0
            idle_turns = 0
            last_cpu = cpu_seconds(node.process.pid)
            deadline = time.monotonic() + 120
            while idle_turns < 20 and time.monotonic() < deadline:  # 20 x 10 ms quiet
                request = harness.binding_request(os.urandom(12))
                asked = time.monotonic()
                victim.send(request)
                try:
                    while victim.recv(512)[8:20] != request[8:20]:
                        pass
                except socket.timeout:
                    unanswered += 1  # a lost Binding; its client would retransmit
                round_trips.append(time.monotonic() - asked)
                time.sleep(0.01)  # the probe's pace, not a synchronisation
                cpu = cpu_seconds(node.process.pid)
                idle_turns = idle_turns + 1 if cpu == last_cpu else 0
                last_cpu = cpu
            busy = cpu_seconds(node.process.pid) - before
            return {"sent_in_ms": sent * 1000, "cpu_ms": busy * 1000,
                    "binding_p50_ms": statistics.median(round_trips) * 1000,
                    "binding_max_ms": max(round_trips) * 1000,
                    "allocate_ms": allocate_seconds * 1000, "unanswered": unanswered}
        finally:
            node.stop()
            redis.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hearthd", action="append", required=True)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    print(f"{arguments.requests} Refreshes from one allocation, one worker, Redis store; "
          f"medians of {arguments.rounds} rounds")
    print(f"{'hearthd':40} {'sent in':>9} {'CPU':>9} {'Binding p50':>12} {'Binding max':>12} "
          f"{'Allocate':>9} {'Bindings lost':>13}")
    for binary in arguments.hearthd:
        runs = [measure(binary, arguments.requests) for _ in range(arguments.rounds)]
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{binary[-40:]:40} {median['sent_in_ms']:7.0f}ms {median['cpu_ms']:7.0f}ms "
              f"{median['binding_p50_ms']:10.2f}ms {median['binding_max_ms']:10.1f}ms "
              f"{median['allocate_ms']:7.1f}ms {median['unanswered']:13.0f}")


if __name__ == "__main__":
    main()
