#!/usr/bin/env python3
"""coturn, hearthd in userspace and hearthd with the XDP fast path, loaded until they lose
packets, by hearth-load and by coturn's own turnutils_uclient with turnutils_peer (run
through bench/compare.sh --saturation, which puts it in a network namespace whose lo
forwards, as the fast path needs).

The figure is what the whole machine spends per relayed packet: relayed packets over busy
CPU-seconds (wall time x CPUs minus idle, iowait and steal from /proc/stat; see
compare_servers.py). XDP's work is charged to whichever process's system call ran the
softirq, on lo the sender's, so no process's own CPU time can stand for the relay's.
Beside it: the load generator's own share of the busy time (uclient's and the peer's
processes, or hearth-load's), and with hearth-load, what the load costs by itself at the
same rate with no relay between its clients and its echo peer: what a relay that cost
nothing would score, and each server's figure once that cost is taken away.

hearth-load: for each server, size and allocation count the offered rate doubles from
40 000 packets/s until more than 1 % is lost or the rate stops growing; the run with the
most relayed packets a second and at most 1 % loss is the one reported. uclient: 200 000
messages over all clients, a millisecond apart per client (it sends as fast as it can
keep up), less a run that only sets the clients up.

--veth: the servers in a network namespace of their own instead, reached over a veth
pair, with the fast path attached natively to their end (XDP in the veth's receive
softirq, as on a network card, rather than generic XDP on lo in the sender's system
call). The loads and their echo peers stay here, so every datagram crosses the pair.

--loads bounce (with --veth): hearth-load --bounce, the load turned around in XDP on its
end of the pair (bench/load/load_bounce.bpf.c): the echo peer's answers and the clients'
next packets are made in the kernel, so the load costs the machine a small share and what
is measured is mostly the relay. No pacing: each client keeps a number of packets going
round, doubled until the rate stops growing (no loss bound: see bounce_saturation). What
the load costs by itself is measured the same way against a reflector on a second veth
pair (load_reflector.bpf.o): a relay that costs nothing.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import compare_servers as bench

SIZES = (160, 1200)
ALLOCATION_COUNTS = (100, 1000)
MESSAGES_PER_UCLIENT_RUN = 200_000  # over every client, so both counts send as much


def hearth_load_saturation(hearth_load, server, payload, allocations, seconds):
    """The best run of hearth-load against `server` as the offered rate doubles."""
    best, p99_by_rate = None, {}
    for offered in (40_000, 80_000, 160_000, 320_000, 640_000):
        per_allocation = max(1, offered // allocations)
        report = bench.load(hearth_load, server, "--allocations", str(allocations), "--rate",
                            str(per_allocation), "--payload", str(payload), "--duration",
                            str(seconds))
        if report["loss_percent"] > 1:
            break
        p99_by_rate[offered] = report["latency_us"]["p99"]
        figures = {
            "per allocation": per_allocation,
            "relayed per s": report["packets_per_second"],
            "machine": report["relayed_packets"] / report["machine_busy_seconds"],
            "load share": 100 * report["window_load_cpu_seconds"] / report["machine_busy_seconds"],
            "loss": report["loss_percent"],
            "p99": report["latency_us"]["p99"],
        }
        if best is not None and figures["relayed per s"] < 1.1 * best["relayed per s"]:
            best = max(best, figures, key=lambda f: f["relayed per s"])
            break  # it no longer grows: saturated without losing
        best = figures
    if best is not None:
        for offered, p99 in p99_by_rate.items():
            best[("p99 at", offered)] = p99
    return best


def bounce_saturation(hearth_load, server, payload, allocations, seconds):
    """The run of hearth-load --bounce against `server` with the highest rate, as the
    packets started double from at least 256 in all until the rate stops growing.

    No loss bound here: in a closed loop a packet lost is not sent again, so the packets
    going round settle at what the path holds (with the fast path, about one veth ring of
    256 frames) and the loop runs on with those. What was lost is reported beside the
    rate: the share of the packets started that were not going round at the end."""
    best = None
    first = -(-256 // allocations)  # at least 256 in all: 3 each for 100, 1 for 1000
    for per_allocation in (first << step for step in range(7)):
        report = bench.load(hearth_load, server, "--bounce", VethPlacement.LOAD_INTERFACE,
                            "--in-flight", str(per_allocation), "--allocations", str(allocations),
                            "--payload", str(payload), "--duration", str(seconds))
        figures = bounce_figures(report)
        figures["per allocation"] = per_allocation
        figures["going round"] = report["received"]
        if best is not None and figures["relayed per s"] < 1.1 * best["relayed per s"]:
            best = max(best, figures, key=lambda f: f["relayed per s"])
            break  # it no longer grows: saturated
        best = figures
    return best


def bounce_figures(report):
    busy = report["window_machine_busy_seconds"]
    return {
        "relayed per s": report["packets_per_second"],
        "machine": report["relayed_packets"] / busy,
        "busy CPUs": busy / report["seconds"],
        "loss": report["loss_percent"],
        "p99": report["latency_us"]["p99"],
    }


def bounce_alone(hearth_load, payload, allocations, per_allocation, seconds):
    """The machine's busy seconds per packet that hearth-load --bounce costs by itself with
    this many packets going round: the reflector on the second veth pair stands for a relay
    that costs nothing, each of its turns counted as two legs."""
    result = subprocess.run(
        [hearth_load, "--raw", "--bounce", VethPlacement.FREE_LOAD_INTERFACE, "--server",
         f"{VethPlacement.REFLECTOR_HOST}:3478", "--json", "--allocations", str(allocations),
         "--in-flight", str(per_allocation), "--payload", str(payload), "--duration",
         str(seconds)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"hearth-load --bounce alone: {result.stderr.strip()}")
    report = json.loads(result.stdout)
    return report["window_machine_busy_seconds"] / report["relayed_packets"]


def load_alone(hearth_load, payload, allocations, per_allocation, seconds):
    """The machine's busy seconds per packet that hearth-load costs by itself at this rate:
    its clients send straight to its echo peer (--raw, the server's address the echo's
    own), each datagram counted twice as through a relay. On lo the kernel delivers a
    datagram in its sender's system call, so through a relay hearth-load's own CPU also
    holds the relay's receive path; this run has no relay to hold."""
    port = echo_port()
    with bench.MachineWindow() as window:
        result = subprocess.run(
            [hearth_load, "--raw", "--server", f"127.0.0.1:{port}", "--echo-port", str(port),
             "--json", "--allocations", str(allocations), "--rate", str(per_allocation),
             "--payload", str(payload), "--duration", str(seconds)],
            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"hearth-load alone: {result.stderr.strip()}")
    return window.busy / json.loads(result.stdout)["relayed_packets"]


def echo_port():
    """A free port for hearth-load's echo peer between the relay ranges (coturn's ends at
    31999, hearthd+xdp's starts at 33000) and below the ephemeral range compare.sh sets
    (50000 and up): hearth-load opens its clients before its echo peer, and one of them
    could take an ephemeral port picked beforehand."""
    for port in range(32000, 33000):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port between 32000 and 32999")


def without_the_load(figures, load_seconds_per_packet):
    """Packets per machine CPU-s once what the load costs by itself is taken away: what a
    load generator that cost nothing would show."""
    relay_seconds_per_packet = 1 / figures["machine"] - load_seconds_per_packet
    return 1 / relay_seconds_per_packet if relay_seconds_per_packet > 0 else float("nan")


class VethPlacement(bench.Placement):
    """The servers' own network namespace, joined to this one by a veth pair: the loads
    and their echo peers here at LOAD_HOST, the servers there at SERVER_HOST. The fast
    path attaches natively to the servers' end. compare.sh made this namespace; the
    servers' one is made here and deleted on exit, the veth pair with it.

    `reflector` (load_reflector.bpf.o, for --loads bounce): the servers' end sends full
    UDP checksums too, which the load's bounce needs to send their datagrams back as they
    came; and a second pair, to a namespace whose end turns every ChannelData datagram
    straight back (REFLECTOR_HOST), for the bounce's own cost."""

    LOAD_HOST, SERVER_HOST = "10.201.0.1", "10.201.0.2"
    LOAD_INTERFACE = "hb-load"
    FREE_LOAD_HOST, REFLECTOR_HOST = "10.202.0.1", "10.202.0.2"
    FREE_LOAD_INTERFACE = "hb-free"

    def __init__(self, program, reflector=None):
        self.program = program  # fast_path.bpf.o, built beside hearthd
        self.reflector = reflector
        super().__init__(host=self.SERVER_HOST, namespace=f"hearth-bench-{os.getpid()}",
                         peers=f"{self.LOAD_HOST}/32",
                         fast_path='fast_path = { interfaces = [ "auto" ]; mode = "native"; };')
        self.reflector_namespace = f"{self.namespace}-free"

    def __enter__(self):
        try:
            self.pair(self.namespace, self.LOAD_INTERFACE, "hb-relay", self.LOAD_HOST,
                      self.SERVER_HOST)
            # NAPI on this end, so that what the program sends back out of the servers'
            # end (XDP_TX) is taken in: GRO alone did not do it on this kernel (6.18), an
            # XDP program does. hearth's own, with no channel in its maps, passes
            # everything; the cost is every server's alike. hearth-load --bounce puts its
            # own in its place while it runs.
            run("ip", "link", "set", "dev", self.LOAD_INTERFACE, "xdpdrv", "obj", self.program,
                "sec", "xdp")
            inside = ["ip", "netns", "exec", self.namespace]
            # The program's route lookups answer only for interfaces that forward; nothing
            # is forwarded here, every datagram is for the servers.
            run(*inside, "sysctl", "-q", "-w", "net.ipv4.conf.all.forwarding=1",
                "net.ipv4.conf.hb-relay.forwarding=1")
            if self.reflector:
                run(*inside, "ethtool", "-K", "hb-relay", "tx", "off")
                self.pair(self.reflector_namespace, self.FREE_LOAD_INTERFACE, "hb-reflect",
                          self.FREE_LOAD_HOST, self.REFLECTOR_HOST)
                run("ip", "netns", "exec", self.reflector_namespace, "ip", "link", "set", "dev",
                    "hb-reflect", "xdpdrv", "obj", self.reflector, "sec", "xdp")
        except BaseException:
            self.__exit__()
            raise
        return self

    @staticmethod
    def pair(namespace, here, there, here_address, there_address):
        """A veth pair from `here` in this namespace to `there` in a new `namespace`.
        Full UDP checksums out of `here`, as a network card's packets arrive (a veth hands
        over CHECKSUM_PARTIAL ones, which an XDP program's incremental update would
        spoil). Each end knows the other's link address from the start: the first
        datagrams of a bounce run (thousands at once) would overflow the queue of a
        neighbour entry still being resolved."""
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", namespace)
        run("ip", "addr", "add", f"{here_address}/24", "dev", here)
        run("ip", "link", "set", here, "up")
        run("ethtool", "-K", here, "tx", "off")
        inside = ["ip", "netns", "exec", namespace]
        run(*inside, "ip", "addr", "add", f"{there_address}/24", "dev", there)
        run(*inside, "ip", "link", "set", there, "up")
        run(*inside, "ip", "link", "set", "lo", "up")
        here_mac = link_address([], here)
        there_mac = link_address(inside, there)
        run("ip", "neigh", "replace", there_address, "lladdr", there_mac, "dev", here, "nud",
            "permanent")
        run(*inside, "ip", "neigh", "replace", here_address, "lladdr", here_mac, "dev", there,
            "nud", "permanent")

    def __exit__(self, *_):
        for namespace in (self.namespace, self.reflector_namespace):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)


def run(*argv):
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


def link_address(prefix, device):
    """`device`'s MAC address, with `prefix` (ip netns exec NS) in front of ip."""
    shown = subprocess.run([*prefix, "ip", "-j", "link", "show", "dev", device], check=True,
                           capture_output=True, text=True, timeout=30)
    return json.loads(shown.stdout)[0]["address"]


def rest_password(username):
    """The REST API password both servers expect: base64(HMAC-SHA1(secret, username))."""
    digest = hmac.new(bench.SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Peer:
    """turnutils_peer, the echo at the far end of every uclient run."""

    def __init__(self, directory, host):
        self.host = host
        self.port = bench.free_port()
        self.log = open(os.path.join(directory, "peer.log"), "w")
        self.process = subprocess.Popen([shutil.which("turnutils_peer"), "-L", host,
                                         "-p", str(self.port)], stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def cpu_seconds(self):
        return bench.process_cpu_seconds(self.process.pid)

    def stop(self):
        self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()


CLIENTS_PER_UCLIENT = 100  # uclient sets its clients up one by one: 1000 are 10 processes


def uclient_run(server, peer, payload, clients, messages):
    """turnutils_uclient over channels (-c: no RTCP allocations, -z 1: a message every
    millisecond per client, as fast as it can), `clients` of them in processes of
    CLIENTS_PER_UCLIENT run side by side. Returns (relayed packets, machine busy s, load
    CPU s, server CPU s, lost packets, sent packets)."""
    username = f"{int(time.time()) + 3600}:load:load"
    argv = [shutil.which("turnutils_uclient"), "-p", str(server.port), "-u", username, "-w",
            rest_password(username), "-e", peer.host, "-r", str(peer.port), "-n",
            str(messages), "-m", str(min(clients, CLIENTS_PER_UCLIENT)), "-l", str(payload),
            "-z", "1", "-c", server.host]
    peer_before = peer.cpu_seconds()
    with bench.MachineWindow(server) as window:
        processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True)
                     for _ in range(max(1, clients // CLIENTS_PER_UCLIENT))]
        outputs = [process.communicate(timeout=600)[0] for process in processes]
    relayed = lost = sent = 0
    for output in outputs:
        totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output)
        lost_lines = re.findall(r"Total lost packets (\d+)", output)
        if not totals or not lost_lines:
            raise RuntimeError(f"uclient against {server.name}:\n{output[-2000:]}")
        # Each message that came back was relayed twice: to the peer and back.
        relayed += 2 * int(totals[-1][1])
        sent += int(totals[-1][0])
        lost += int(lost_lines[-1])
    load_cpu = window.load_cpu + peer.cpu_seconds() - peer_before
    return relayed, window.busy, load_cpu, window.server_cpu, lost, sent


def uclient_figures(server, peer, payload, clients):
    """The traffic's share of a uclient run: a run that only sets up (one message each) is
    subtracted from one that sends MESSAGES_PER_UCLIENT_RUN, so uclient's slow start of
    1000 clients is not counted as relaying."""
    messages = MESSAGES_PER_UCLIENT_RUN // clients
    full = uclient_run(server, peer, payload, clients, messages)
    setup = uclient_run(server, peer, payload, clients, 1)
    relayed, busy, load_cpu = (a - b for a, b in zip(full[:3], setup[:3]))
    sent = full[5]
    return {
        "machine": relayed / busy if busy > 0 else float("nan"),
        "load share": 100 * load_cpu / busy if busy > 0 else float("nan"),
        "loss": 100 * full[4] / sent if sent else float("nan"),
    }


def main():
    parser = bench.script_parser(__doc__, "--saturation", rounds=3, seconds=3)
    parser.add_argument("--loads", default="hearth-load,uclient",
                        help="which loads, comma-separated: hearth-load, uclient (its runs take "
                             "most of the time), bounce (needs --veth)")
    parser.add_argument("--veth", action="store_true",
                        help="the servers behind a veth pair, the fast path native on it")
    arguments = parser.parse_args()
    loads = arguments.loads.split(",")
    if "bounce" in loads and not arguments.veth:
        parser.error("--loads bounce needs --veth: the bounce runs on the load's end of a veth")
    workers = os.cpu_count() or 1
    results = {}  # (server, load, payload, allocations, figure) -> [values]

    program = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(arguments.hearthd))),
                           "relay", "xdp", "fast_path.bpf.o")
    reflector = os.path.join(os.path.dirname(os.path.abspath(arguments.hearth_load)),
                             "load_reflector.bpf.o")
    placement = (VethPlacement(program, reflector if "bounce" in loads else None)
                 if arguments.veth else bench.LOOPBACK)
    load_host = VethPlacement.LOAD_HOST if arguments.veth else "127.0.0.1"
    with tempfile.TemporaryDirectory() as directory, placement:
        servers, peer = [], None
        try:
            servers = [bench.start_hearthd(arguments.hearthd, workers, directory, True,
                                           placement=placement),
                       bench.start_hearthd(arguments.hearthd, workers, directory,
                                           placement=placement),
                       bench.start_coturn(workers, directory, placement)]
            peer = Peer(directory, load_host)
            background = bench.background_busy_cpus()
            for round_number in range(arguments.rounds):
                order = servers if round_number % 2 == 0 else list(reversed(servers))
                for payload in SIZES:
                    for allocations in ALLOCATION_COUNTS:
                        for server in order:
                            runs = {}
                            if "hearth-load" in loads:
                                runs["hearth-load"] = hearth_load_saturation(
                                    arguments.hearth_load, server, payload, allocations,
                                    arguments.seconds)
                            if "uclient" in loads:
                                runs["uclient"] = uclient_figures(server, peer, payload,
                                                                  allocations)
                            if "bounce" in loads:
                                runs["bounce"] = bounce_saturation(
                                    arguments.hearth_load, server, payload, allocations,
                                    arguments.seconds)
                                if runs["bounce"]:
                                    bounced = runs["bounce"]
                                    cost = bounce_alone(arguments.hearth_load, payload,
                                                        allocations, bounced["per allocation"],
                                                        arguments.seconds)
                                    bounced["free relay"] = 1 / cost
                                    bounced["relay alone"] = without_the_load(bounced, cost)
                                    bounced["load alone share"] = 100 * cost * bounced["machine"]
                            best = runs.get("hearth-load")
                            # What the load costs alone is measured on lo: behind the veth
                            # pair there is no relay-free way for it to cross.
                            if best and not arguments.veth:
                                cost = load_alone(arguments.hearth_load, payload, allocations,
                                                  best["per allocation"], arguments.seconds)
                                best["free relay"] = 1 / cost
                                best["relay alone"] = without_the_load(best, cost)
                                best["load alone share"] = 100 * cost * best["machine"]
                            for load, figures in runs.items():
                                for figure, value in (figures or {}).items():
                                    results.setdefault(
                                        (server.name, load, payload, allocations, figure),
                                        []).append(value)
        finally:
            for server in servers:
                server.stop()
            if peer is not None:
                peer.stop()

    def median(*key):
        values = results.get(key, [])
        return statistics.median(values) if values else float("nan")

    names = ("hearthd+xdp", "hearthd", "coturn")
    print(f"{', '.join(names)}: {workers} workers / relay threads each, {arguments.rounds} rounds "
          f"alternating, medians; machine busy before the runs {background[0]:.2f} of "
          f"{background[1]} CPUs")
    def table(title, figure, digits=0, ratios=False, loads=("hearth-load", "bounce", "uclient")):
        print(title)
        for load in loads:
            for payload in SIZES:
                for allocations in ALLOCATION_COUNTS:
                    values = [median(n, load, payload, allocations, figure) for n in names]
                    if all(v != v for v in values):  # nan: this load has no such figure
                        continue
                    line = f"{f'{load}, {payload} B, {allocations}':<30}" + "".join(
                        f"{v:>13.{digits}f}" for v in values)
                    if ratios:
                        line += f"{values[0] / values[2]:>12.2f}{values[1] / values[2]:>12.2f}"
                    print(line)

    print(f"{'load, size, allocations':<30}" + "".join(f"{n:>13}" for n in names)
          + f"{'xdp/coturn':>12}{'user/coturn':>12}")
    table("packets per machine CPU-s at saturation (higher is better)", "machine", ratios=True)
    table("the same without what the load costs by itself (hearth-load alone at that rate)",
          "relay alone", ratios=True)
    table("what a relay that cost nothing would score (hearth-load alone)", "free relay")
    table("the load generator's own CPU, % of the machine's busy time", "load share", 1)
    table("what the load costs by itself at that rate, % of the machine's busy time",
          "load alone share", 1)
    table("relayed packets per second in the run reported", "relayed per s")
    table("machine CPUs busy in the run reported", "busy CPUs", 2, loads=("bounce",))
    table("packets started per allocation in the run reported", "per allocation",
          loads=("bounce",))
    table("packets still going round at the end, in all", "going round", loads=("bounce",))
    table("loss % (bounce: of the packets started)", "loss", 3)
    table("round trip p99 us in the run reported", "p99")
    print("round trip p99 us at the highest offered rate every server carried under 1 % loss")
    for payload in SIZES:
        for allocations in ALLOCATION_COUNTS:
            rates = [{key[4][1] for key in results
                      if key[:4] == (n, "hearth-load", payload, allocations)
                      and isinstance(key[4], tuple)} for n in names]
            common = set.intersection(*rates) if all(rates) else set()
            if not common:
                continue
            rate = max(common)
            values = [median(n, "hearth-load", payload, allocations, ("p99 at", rate))
                      for n in names]
            print(f"{f'hearth-load, {payload} B, {allocations}, {rate // 1000}k/s':<30}"
                  + "".join(f"{v:>13.0f}" for v in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
