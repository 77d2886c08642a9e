#!/usr/bin/env python3
"""hearthd and coturn's turnserver side by side (run through bench/compare.sh).

Both servers run at once on loopback with equivalent settings: the same number of
worker (relay) threads, REST API credentials with the same secret, loopback peers
allowed, no TLS, no bandwidth limits. hearth-load drives each with the same runs, the
servers taking turns (the order flips every round), for --rounds rounds; the table shows
the medians and the hearth/coturn ratio. Each server's CPU time is read from /proc, so the
load generator's own CPU does not count against either.

Beside that, each run's whole-machine CPU is read from /proc/stat before and after it:
busy = wall time x CPUs - (idle + iowait + steal). The kernel samples its busy fields
(user, system, softirq...) at each tick, which misses the short wake-ups of a relay at
20 000 packets/s, while idle time is measured at every entry and exit; so busy is what is
left of the wall time. With it: relayed packets per machine busy CPU-second (the kernel's
work on both legs, both servers' and hearth-load's included), hearth-load's share of that
busy time, and what a relay that cost nothing would score (machine busy minus the server
process's CPU over the same window).
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SECRET = "compare-secret-0123456789abcdef"
OFFERED_PACKETS_PER_SECOND = 20000  # what hearth-load sends in total, in every run


CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")  # /proc/stat's and /proc/PID/stat's unit


def machine_idle_seconds():
    """(idle + iowait + steal summed over every CPU, in seconds; the number of CPUs),
    from /proc/stat (proc(5): cpu user nice system idle iowait irq softirq steal ...)."""
    with open("/proc/stat") as stat:
        lines = stat.read().splitlines()
    fields = lines[0].split()
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3].isdigit())
    return (int(fields[4]) + int(fields[5]) + int(fields[8])) / CLOCK_TICKS_PER_SECOND, cpus


def process_cpu_seconds(pid):
    """utime + stime of process `pid` (proc(5) fields 14 and 15, after the command name
    in parentheses, which may hold spaces)."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_SECOND


def children_cpu_seconds():
    """CPU of every child waited for so far: around one subprocess.run, that child's."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class MachineWindow:
    """Whole-machine busy CPU, `server`'s (none: 0) and the load generator's (the children
    waited for inside the window) from enter to exit."""

    def __init__(self, server=None):
        self.server = server

    def server_cpu_seconds(self):
        return process_cpu_seconds(self.server.pid) if self.server else 0.0

    def __enter__(self):
        self.server_before = self.server_cpu_seconds()
        self.children_before = children_cpu_seconds()
        self.wall_before = time.monotonic()
        self.idle_before, self.cpus = machine_idle_seconds()
        return self

    def __exit__(self, *_):
        idle_after, _ = machine_idle_seconds()
        wall = time.monotonic() - self.wall_before
        self.load_cpu = children_cpu_seconds() - self.children_before
        self.server_cpu = self.server_cpu_seconds() - self.server_before
        self.busy = wall * self.cpus - (idle_after - self.idle_before)


def background_busy_cpus(seconds=2.0):
    """CPUs busy on average over `seconds` while nothing is relaying: what else the
    machine is doing (a compiler, another agent), all of which the machine figures count."""
    idle_before, cpus = machine_idle_seconds()
    wall_before = time.monotonic()
    time.sleep(seconds)  # a measuring window, not a wait for anything
    idle_after, _ = machine_idle_seconds()
    wall = time.monotonic() - wall_before
    return (wall * cpus - (idle_after - idle_before)) / wall, cpus


def free_port():
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
                socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Placement:
    """Where the servers run and how their clients reach them: here on loopback (LOOPBACK,
    the fast path in generic mode on lo), or in the network namespace `namespace` at
    `host`, reached over a veth pair whose end there carries the fast path natively
    (saturation.py --veth). `peers`: the range the clients' echo peers are in."""

    def __init__(self, host="127.0.0.1", namespace=None, peers="127.0.0.0/8",
                 fast_path='fast_path = { interfaces = [ "lo" ]; mode = "generic"; };'):
        self.host, self.namespace, self.peers, self.fast_path = host, namespace, peers, fast_path
        self.next_port = 3478

    # Set up and torn down around the runs: nothing to do on loopback.
    def __enter__(self):
        return self

    def __exit__(self, *_):
        pass

    def argv(self, argv):
        return ["ip", "netns", "exec", self.namespace, *argv] if self.namespace else argv

    def listen_port(self):
        """A port the server may listen on: in a namespace of the servers' own, every port
        is free and free_port() cannot tell, so they take 3478 and up in turn."""
        if self.namespace is None:
            return free_port()
        self.next_port += 1
        return self.next_port - 1


LOOPBACK = Placement()


def answers_binding(host, port):
    """True once a STUN Binding to host:port is answered (RFC 8489 §6)."""
    request = bytes.fromhex("000100002112a442") + os.urandom(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        probe.sendto(request, (host, port))
        try:
            return probe.recv(512)[8:20] == request[8:20]
        except socket.timeout:
            return False


def says_ready(log_path):
    """For the forwarder, which answers nothing itself: its ready line."""
    def ready(_host, _port):
        time.sleep(0.05)  # polling a file an external process writes, bounded by the caller
        with open(log_path) as log:
            return "ready" in log.read()
    return ready


class Server:
    """One server process, its log in a file, ready once `ready(host, port)` says so (a
    TURN server: once it answers a Binding), and stopped by PID."""

    def __init__(self, name, argv, port, log_path, ready=answers_binding, host="127.0.0.1"):
        self.name = name
        self.host = host
        self.port = port
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):  # bounded: about 20 s
            if self.process.poll() is not None:
                break
            if ready(host, port):
                return
        self.stop()
        with open(log_path) as log:
            raise RuntimeError(f"{name} did not start:\n{log.read()[-2000:]}")

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


# Relay ports stay below the kernel's ephemeral range (32768 and up), where free_port()
# finds the listening and echo ports: a relay socket must never take one of those.
def start_hearthd(binary, workers, directory, fast_path=False, relay_ports=None,
                  max_allocations=10000, sessions=1, placement=LOOPBACK):
    """`fast_path`: the XDP fast path as `placement` has it, as "hearthd+xdp". `sessions`
    more than 1: sessions load-0 .. load-(N-1), for hearth-load --sessions N, as one
    session holds at most 10 000 allocations."""
    port = placement.listen_port()
    name = "hearthd+xdp" if fast_path else "hearthd"
    config = os.path.join(directory, f"{name}.conf")
    fast_path_group = placement.fast_path if fast_path else ""
    # compare.sh --fast-path moves the namespace's ephemeral ports to 50000 and up.
    relay_ports = relay_ports or ((33000, 49999) if fast_path else (2000, 16999))
    ids = ["load"] if sessions == 1 else [f"load-{i}" for i in range(sessions)]
    session_list = ", ".join(
        f'{{ id = "{id}"; state = "active"; participants = [ "load" ]; allocation_cap = '
        f'{min(10000, max_allocations)}; }}' for id in ids)
    with open(config, "w") as file:
        file.write(f"""
log_level = "warn";
workers = {workers};
realm = "compare";
listen = {{ udp = [ "{placement.host}:{port}" ]; tcp = [ ]; }};
relay = {{ ipv4 = "{placement.host}"; port_min = {relay_ports[0]}; port_max = {relay_ports[1]}; }};
auth = {{ secrets = ( {{ name = "compare"; value = "{SECRET}"; }} ); }};
session_store = {{ kind = "embedded"; sessions = ( {session_list} ); }};
limits = {{ max_allocations = {max_allocations}; max_allocations_per_user = 100000; unauthenticated_requests_per_second = 0;
           allocate_requests_per_second = 0; upkeep_requests_per_second = 0;
           allocation_bandwidth_bps = 0; session_bandwidth_bps = 0; }};
peer_policy = {{ allow = [ "{placement.peers}" ]; }};
admin = {{ listen = ""; }};
{fast_path_group}
""")
    return Server(name, placement.argv([binary, "--config", config]), port,
                  os.path.join(directory, f"{name}.log"), host=placement.host)


def start_coturn(workers, directory, placement=LOOPBACK):
    turnserver = shutil.which("turnserver")
    if turnserver is None:
        raise RuntimeError("turnserver is missing (bench/compare.sh installs coturn)")
    port = placement.listen_port()
    argv = [turnserver, "-n", "--listening-ip", placement.host, "--listening-port", str(port),
            "--relay-ip", placement.host, "--min-port", "17000", "--max-port", "31999",
            "--use-auth-secret", "--static-auth-secret", SECRET, "--realm", "compare",
            "--no-tls", "--no-dtls", "--no-cli", "--no-tcp-relay", "--allow-loopback-peers",
            "--relay-threads", str(workers), "--log-file", "stdout", "--simple-log",
            "--pidfile", os.path.join(directory, "turnserver.pid")]
    return Server("coturn", placement.argv(argv), port, os.path.join(directory, "coturn.log"),
                  host=placement.host)


def start_forwarder(binary, directory):
    port, echo_port = free_port(), free_port()
    log_path = os.path.join(directory, "forwarder.log")
    server = Server("forwarder", [binary, "--listen", f"127.0.0.1:{port}", "--peer",
                                  f"127.0.0.1:{echo_port}"], port, log_path, says_ready(log_path))
    server.echo_port = echo_port
    return server


def load(hearth_load, server, *arguments):
    mode = (["--raw", "--echo-port", str(server.echo_port)] if server.name == "forwarder" else
            ["--secret", SECRET, "--session", "load", "--user", "load"])
    with MachineWindow(server) as window:
        result = subprocess.run(
            [hearth_load, "--server", f"{server.host}:{server.port}", *mode, "--server-pid",
             str(server.pid), "--json", *arguments], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"hearth-load against {server.name}: {result.stderr.strip()}")
    report = json.loads(result.stdout)
    # The whole run (setup and traffic, hearth-load's start and exit): what the machine
    # spent for the packets the traffic relayed.
    report["machine_busy_seconds"] = window.busy
    report["window_load_cpu_seconds"] = window.load_cpu
    report["window_server_cpu_seconds"] = window.server_cpu
    return report


def saturation(hearth_load, server, seconds):
    """The most packets a second `server` relays with 100 allocations of 160 B before it
    loses more than 1 %: the offered rate doubles until then."""
    best = 0
    for per_allocation in (100, 200, 400, 800, 1600, 3200):
        report = load(hearth_load, server, "--allocations", "100", "--rate", str(per_allocation),
                      "--payload", "160", "--duration", str(seconds))
        if report["loss_percent"] > 1:
            break
        best = max(best, report["packets_per_second"])
    return best


def script_parser(doc, selector, rounds, seconds):
    """The options of the other scripts compare.sh runs (saturation.py with --saturation,
    allocation_scale.py with --scale): compare.sh passes them all the same ones."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--hearthd", required=True)
    parser.add_argument("--hearth-load", required=True)
    parser.add_argument("--forwarder", help="unused; compare.sh passes it to every script")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument(selector, action="store_true", help="what selected this script")
    parser.add_argument("--fast-path", action="store_true", help="always on here")
    return parser


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hearthd", required=True)
    parser.add_argument("--hearth-load", required=True)
    parser.add_argument("--forwarder", required=True, help="bench/limit's udp-forwarder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    # 9000 by default, not 10 000: under a hard limit of 20 000 descriptors (the machine
    # RESULTS.md was measured on) hearthd caps allocations at about 9950, two each.
    parser.add_argument("--idle-allocations", type=int, default=9000)
    # compare.sh --fast-path runs this in a network namespace of its own, where lo forwards
    # (the program's route lookups need it): every server's datagrams then pass the program
    # (generic mode), those of the others as no_entry.
    parser.add_argument("--fast-path", action="store_true",
                        help="also hearthd with the XDP fast path on lo")
    arguments = parser.parse_args()
    workers = os.cpu_count() or 1

    runs = [(payload, allocations) for payload in (160, 1200) for allocations in (10, 100, 1000)]
    results = {}  # (server, figure) -> [values]

    def record(server, figure, value):
        results.setdefault((server, figure), []).append(value)

    with tempfile.TemporaryDirectory() as directory:
        servers = []
        try:
            servers = [start_hearthd(arguments.hearthd, workers, directory),
                       start_coturn(workers, directory),
                       start_forwarder(arguments.forwarder, directory)]
            if arguments.fast_path:
                servers.insert(1, start_hearthd(arguments.hearthd, workers, directory, True))
            background = background_busy_cpus()
            for round_number in range(arguments.rounds):
                order = servers if round_number % 2 == 0 else list(reversed(servers))
                for payload, allocations in runs:
                    rate = max(1, OFFERED_PACKETS_PER_SECOND // allocations)
                    for server in order:
                        report = load(arguments.hearth_load, server, "--allocations",
                                      str(allocations), "--rate", str(rate), "--payload",
                                      str(payload), "--duration", str(arguments.seconds))
                        key = f"{payload}/{allocations}"
                        record(server.name, f"ppcs {key}",
                               report.get("packets_per_server_cpu_second", 0))
                        record(server.name, f"loss {key}", report["loss_percent"])
                        busy = report["machine_busy_seconds"]
                        relayed = report["relayed_packets"]
                        if busy > 0:
                            record(server.name, f"machine {key}", relayed / busy)
                            record(server.name, f"load share {key}",
                                   100 * report["window_load_cpu_seconds"] / busy)
                        free = busy - report["window_server_cpu_seconds"]
                        if free > 0:
                            record(server.name, f"free relay {key}", relayed / free)
                        if allocations == 1000:
                            record(server.name, "setup", report["allocations_per_second"])
                            if "server_setup_cpu_seconds" in report:
                                record(server.name, "setup cpu", 1e6 *
                                       report["server_setup_cpu_seconds"] / allocations)
                # Latency at half of coturn's saturation rate (160 B, 100 allocations).
                coturn = next(s for s in servers if s.name == "coturn")
                half = saturation(arguments.hearth_load, coturn, arguments.seconds) / 2
                record("coturn", "saturation", half * 2)
                # Relayed packets count both legs: each sent packet is relayed twice.
                per_allocation = str(max(1, int(half / 2 / 100)))
                for server in (s for s in order if s.name != "forwarder"):
                    report = load(arguments.hearth_load, server, "--allocations", "100", "--rate",
                                  per_allocation, "--payload", "160", "--duration",
                                  str(arguments.seconds))
                    for percentile in ("p50", "p99", "p999"):
                        record(server.name, percentile, report["latency_us"][percentile])
                # Memory per allocation on a fresh process each time: a warm one would
                # reuse what earlier runs freed.
                for start in (lambda: start_hearthd(arguments.hearthd, workers, directory),
                              lambda: start_coturn(workers, directory)):
                    fresh = start()
                    try:
                        report = load(arguments.hearth_load, fresh, "--allocations",
                                      str(arguments.idle_allocations), "--rate", "1",
                                      "--duration", "0.5")
                    finally:
                        fresh.stop()
                    record(fresh.name, "rss", report.get("server_rss_bytes_per_allocation", 0))
        finally:
            for server in servers:
                server.stop()

    def median(server, figure):
        values = results.get((server, figure), [])
        return statistics.median(values) if values else float("nan")

    def row(label, figure, unit="", limit=False):
        hearth, coturn = median("hearthd", figure), median("coturn", figure)
        ratio = hearth / coturn if coturn else float("nan")
        text = f"{label:<44}{hearth:>12.0f}{unit:<4}{coturn:>12.0f}{unit:<4}{ratio:>8.2f}"
        if limit:
            forwarder = median("forwarder", figure)
            text += f"{forwarder:>12.0f}{hearth / forwarder if forwarder else float('nan'):>10.2f}"
        print(text)

    version = subprocess.run(["turnserver", "--version"], capture_output=True,
                             text=True).stdout.strip()
    print(f"hearth against coturn {version}: {workers} worker threads each, {arguments.rounds} "
          f"rounds alternating, medians; hearth-load offers {OFFERED_PACKETS_PER_SECOND} "
          f"packets/s for {arguments.seconds:g} s per run (echo peer, ChannelData)")
    print(f"{'figure':<44}{'hearth':>16}{'coturn':>16}{'ratio':>8}{'limit':>12}"
          f"{'of limit':>10}")
    for payload, allocations in runs:
        row(f"packets per server CPU-s, {payload} B, {allocations} alloc",
            f"ppcs {payload}/{allocations}", limit=True)
    print(f"machine busy before the runs, the servers idle: {background[0]:.2f} of "
          f"{background[1]} CPUs (the machine rows below count it too)")
    for payload, allocations in runs:
        row(f"packets per machine CPU-s, {payload} B, {allocations} alloc",
            f"machine {payload}/{allocations}", limit=True)
    for payload, allocations in runs:
        hearth, coturn, forwarder = (median(name, f"load share {payload}/{allocations}")
                                     for name in ("hearthd", "coturn", "forwarder"))
        print(f"{f'hearth-load % of machine, {payload} B, {allocations} alloc':<44}"
              f"{hearth:>12.1f}{' %':<4}{coturn:>12.1f}{' %':<4}{'':>8}{forwarder:>12.1f}")
    for payload, allocations in runs:
        row(f"free relay per machine CPU-s, {payload} B, {allocations} alloc",
            f"free relay {payload}/{allocations}", limit=True)
    for payload, allocations in runs:
        hearth = median("hearthd", f"loss {payload}/{allocations}")
        coturn = median("coturn", f"loss {payload}/{allocations}")
        print(f"{f'loss %, {payload} B, {allocations} alloc':<44}{hearth:>12.3f}{'':<4}"
              f"{coturn:>12.3f}")
    row("allocation setup per s (1000 alloc)", "setup")
    row("server CPU per allocation setup", "setup cpu", " us")
    row(f"RSS per idle allocation ({arguments.idle_allocations} alloc)", "rss", " B")
    if arguments.fast_path:
        print("with the fast path: hearthd+xdp, hearthd in userspace, coturn; machine CPU "
              "per relayed packet, as ratios of coturn's (higher is better)")
        for payload, allocations in runs:
            figure = f"machine {payload}/{allocations}"
            xdp, user, coturn = (median(name, figure) for name in ("hearthd+xdp", "hearthd", "coturn"))
            print(f"{f'packets per machine CPU-s, {payload} B, {allocations} alloc':<44}"
                  f"{xdp:>12.0f}{user:>12.0f}{coturn:>12.0f}{xdp / coturn:>8.2f}{user / coturn:>8.2f}")
        for payload, allocations in runs:
            share = median("hearthd+xdp", f"load share {payload}/{allocations}")
            print(f"{f'hearth-load % of machine with it, {payload} B, {allocations} alloc':<44}"
                  f"{share:>12.1f} %")
        for payload, allocations in runs:
            xdp = median("hearthd+xdp", f"loss {payload}/{allocations}")
            print(f"{f'loss % with the fast path, {payload} B, {allocations} alloc':<44}{xdp:>12.3f}")
        for percentile in ("p50", "p99", "p999"):
            xdp, user = (median(name, percentile) for name in ("hearthd+xdp", "hearthd"))
            print(f"{f'round trip {percentile} with / without the fast path':<44}"
                  f"{xdp:>12.0f} us{user:>10.0f} us")
    print(f"coturn's saturation (160 B, 100 alloc, loss under 1 %): "
          f"{median('coturn', 'saturation'):.0f} relayed packets/s")
    for percentile in ("p50", "p99", "p999"):
        row(f"round trip {percentile} at half that rate", percentile, " us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
