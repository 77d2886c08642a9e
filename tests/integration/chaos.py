#!/usr/bin/env python3
"""The chaos run: calls relay through two hearthd nodes while Redis is stopped, hung,
brought back and failed over, the nodes are reloaded ten times, and one node is killed
with SIGKILL and started again.

Redis runs as a master, a replica and three sentinels; the nodes follow the master
through the sentinels. The calls: UDP TURN clients of this script (one session each,
ChannelData to an echo peer at 50 packets a second), two turnutils_uclient runs (one per
node), and a Chromium call held through node A (tests/browser/hold_call.mjs).

It reports, for each fault, how many packets each call lost while it lasted, which calls
lost their allocation, and whether each revocation made after a fault reached the call's
node; and it fails unless no call on a node that was not killed lost its allocation, the
killed node's cap slots were given back within their expiry, and every revocation landed.

    tests/integration/chaos.py --seconds 60          # by hand, for longer
    tests/integration/chaos.py --seconds 40 --no-browser
"""

import argparse
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN_TOKEN = "chaos-admin-token-0123456789abcdef"
MASTER_NAME = "hearth"
PACKETS_PER_SECOND = 50
COUNT_TTL = 30  # a node's counts in Redis expire this long after its last heartbeat
REFRESH, CHANNEL_BIND, CHANNEL = harness.REFRESH, harness.CHANNEL_BIND, 0x4000


class Redis:
    """A master, a replica and three sentinels on loopback."""

    def __init__(self, directory):
        self.directory = directory
        self.master_port = harness.free_port((socket.SOCK_STREAM,))
        self.replica_port = harness.free_port((socket.SOCK_STREAM,))
        self.master = self.server(self.master_port)
        self.replica = self.server(self.replica_port, "--replicaof", "127.0.0.1",
                                   str(self.master_port))
        self.replica.wait_for_line("MASTER <-> REPLICA sync: Finished with success")
        self.sentinels = [self.sentinel(index) for index in range(3)]

    def server(self, port, *extra):
        process = harness.Process(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", self.directory,
                                   "--dbfilename", f"dump-{port}.rdb", *extra], f"redis {port}")
        process.wait_for_line("Ready to accept connections")
        return process

    def sentinel(self, index):
        port = harness.free_port((socket.SOCK_STREAM,))
        path = os.path.join(self.directory, f"sentinel{index}.conf")
        with open(path, "w") as config:
            config.write(f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                         f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master_port} 2\n"
                         f"sentinel down-after-milliseconds {MASTER_NAME} 60000\n"
                         f"sentinel failover-timeout {MASTER_NAME} 10000\n")
        process = harness.Process(["redis-sentinel", path], f"sentinel {index}")
        process.wait_for_line(f"+slave slave 127.0.0.1:{self.replica_port}", timeout=30)
        process.port = port
        return process

    def cli(self, port, *arguments):
        return subprocess.run(["redis-cli", "-p", str(port), *arguments], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()

    def master_cli(self, *arguments):
        return self.cli(self.master_port, *arguments)

    def set_down_after(self, milliseconds):
        """How soon the sentinels fail a silent master over: never during the stop and
        hang faults (they are Redis outages, not failovers), at once for the failover."""
        for sentinel in self.sentinels:
            self.cli(sentinel.port, "SENTINEL", "SET", MASTER_NAME, "down-after-milliseconds",
                     str(milliseconds))

    def stop(self):
        for process in self.sentinels + [self.replica, self.master]:
            if process is not None:
                if process.process.poll() is None:
                    os.kill(process.process.pid, signal.SIGCONT)
                process.stop()


class Node:
    """A hearthd following the master through the sentinels."""

    def __init__(self, name, directory, redis):
        self.name = name
        self.port = harness.free_port()
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        base = {"a": 52000, "b": 53000}[name]
        sentinels = ", ".join(f'"127.0.0.1:{s.port}"' for s in redis.sentinels)
        config = harness.config_text(self.port, (base, base + 999), extra=f"""
admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{ADMIN_TOKEN}"; }};
limits = {{ allocate_requests_per_second = 0; upkeep_requests_per_second = 0;
           auth_failures_before_ban = 0; }};
""").replace('log_level = "debug";', 'log_level = "info";').replace(
            'session_store = { kind = "embedded";',
            f'session_store = {{ kind = "redis"; redis = {{ node_id = "{name}"; grace = 60; '
            f'metrics_interval = 0; sentinels = [ {sentinels} ]; '
            f'master_name = "{MASTER_NAME}"; command_timeout_ms = 500; }};')
        self.config_path = os.path.join(directory, f"{name}.conf")
        with open(self.config_path, "w") as file:
            file.write(config)
        self.process = None
        self.start()

    def start(self):
        self.process = harness.Process([harness.HEARTHD, "--config", self.config_path],
                                       f"hearthd {self.name}", signal.SIGINT)
        self.process.wait_for_line("hearthd ready:")
        self.process.wait_for_line("Redis 127.0.0.1:", timeout=30)

    def kill(self):
        self.process.process.send_signal(signal.SIGKILL)
        self.process.process.wait(timeout=10)
        self.process.stop()

    def admin(self, path, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}",
                                         method=method,
                                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def allocations(self, session):
        return self.admin(f"/v1/allocations?session={session}")["allocations"]


class EchoPeer:
    """The far end of the script's calls: every datagram goes back where it came from."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.running = True
        self.thread = threading.Thread(target=self.echo, daemon=True)
        self.thread.start()

    def echo(self):
        while self.running:
            try:
                data, source = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            self.sock.sendto(data, source)

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


class Call:
    """A UDP TURN client with one allocation of its own session, sending numbered
    ChannelData to the echo peer at a steady pace and noting what comes back."""

    def __init__(self, node, session, peer_address):
        self.node, self.session = node, session
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", node.port))
        self.client = harness.TurnClient(self.sock, session=session, user="u")
        self.client.exchange = self.exchange
        self.client.transmit = self.sock.send
        self.answers = queue.Queue()
        self.sent = {}      # sequence -> monotonic send time
        self.echoed = set()
        self.running = True
        self.receiver = threading.Thread(target=self.receive, daemon=True)
        self.receiver.start()
        self.client.allocate()
        bind = self.client.request(CHANNEL_BIND, [(0x000C, struct.pack("!HH", CHANNEL, 0)),
                                                  (0x0012, harness.xor_peer(*peer_address))])
        if struct.unpack("!H", bind[0:2])[0] != 0x0109:
            raise RuntimeError(f"ChannelBind failed with {harness.error_code(bind)}")
        self.sender = threading.Thread(target=self.send, daemon=True)
        self.sender.start()

    def receive(self):
        self.sock.settimeout(0.5)
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) >= 8 and data[0] & 0xC0 == 0x40:  # ChannelData
                self.echoed.add(struct.unpack("!I", data[4:8])[0])
            else:
                self.answers.put(data)

    def exchange(self, request):
        """One request, retransmitted as RFC 8489 §6.2.1 says, until its answer comes."""
        for timeout in (0.5, 1, 2, 4):
            self.sock.send(request)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    answer = self.answers.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if answer[8:20] == request[8:20]:
                    return answer
        raise TimeoutError(f"{self.session}: no answer")

    def send(self):
        sequence = 0
        next_at = time.monotonic()
        while self.running:
            payload = struct.pack("!I", sequence) + bytes(60)
            self.sent[sequence] = time.monotonic()
            try:
                self.sock.send(struct.pack("!HH", CHANNEL, len(payload)) + payload)
            except OSError:
                return
            sequence += 1
            next_at += 1 / PACKETS_PER_SECOND
            time.sleep(max(0, next_at - time.monotonic()))  # the call's pace

    def lost_between(self, start, end):
        """Packets sent in [start, end) whose echo never came."""
        return sum(1 for sequence, at in list(self.sent.items())
                   if start <= at < end and sequence not in self.echoed)

    def refreshes(self):
        try:
            answer = self.client.request(REFRESH, [(0x000D, struct.pack("!I", 600))])
        except TimeoutError:
            return False
        return struct.unpack("!H", answer[0:2])[0] == 0x0104

    def close(self):
        self.running = False
        self.sock.close()


def run_uclient(node, seconds, directory):
    """turnutils_uclient through `node` for about `seconds`: its summary at the end."""
    username, password = harness.mint(f"uclient-{node.name}", "u")
    peer = harness.free_port((socket.SOCK_DGRAM,))
    peer_process = harness.Process(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer)],
                                   "turnutils_peer")
    count = int(seconds * 1000 / 40)
    log = open(os.path.join(directory, f"uclient-{node.name}.log"), "w")
    process = subprocess.Popen(["turnutils_uclient", "-p", str(node.port), "-u", username, "-w",
                                password, "-n", str(count), "-m", "1", "-l", "160", "-z", "40",
                                "-c", "-e", "127.0.0.1", "-r", str(peer), "127.0.0.1"],
                               stdout=log, stderr=subprocess.STDOUT)
    return process, peer_process, log


def run_browser(node, seconds):
    caller = "%s:%s" % harness.mint("browser", "caller")
    callee = "%s:%s" % harness.mint("browser", "callee")
    return subprocess.Popen(["node", os.path.join(HERE, "..", "browser", "hold_call.mjs"),
                             "--seconds", str(int(seconds)), "--url",
                             f"turn:127.0.0.1:{node.port}?transport=udp",
                             "--caller", caller, "--callee", callee],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Chaos:
    def __init__(self, seconds, browser):
        self.seconds = seconds
        self.directory = tempfile.mkdtemp(prefix="hearth-chaos-")
        self.redis = Redis(self.directory)
        for session in [f"call{i}" for i in range(10)] + ["uclient-a", "uclient-b", "browser"]:
            self.open_session(session)
        self.nodes = {name: Node(name, self.directory, self.redis) for name in ("a", "b")}
        self.peer = EchoPeer()
        self.calls = [Call(self.nodes["a" if i % 2 == 0 else "b"], f"call{i}",
                           self.peer.sock.getsockname()) for i in range(4)]
        self.victims = [f"call{i}" for i in range(4, 10)]  # revoked one after each fault
        self.victim_calls = {}
        self.faults = []
        self.revocations = []
        self.uclients = [run_uclient(node, seconds, self.directory) for node in self.nodes.values()]
        self.browser = run_browser(self.nodes["a"], seconds + 5) if browser else None
        self.browser_output = []  # every line it printed, read by a thread as they come
        self.browser_lines = queue.Queue()
        if self.browser is not None:
            threading.Thread(target=self.read_browser, daemon=True).start()

    def read_browser(self):
        for line in self.browser.stdout:
            self.browser_output.append(line)
            self.browser_lines.put(line)
        self.browser_lines.put(None)

    def wait_until_established(self):
        """Faults start once every call is up: an Allocate made during an outage is refused
        for a session the node has not seen (the grace rule), so a call still setting up
        when Redis stops never starts, and that is not what this run measures."""
        deadline = time.monotonic() + 60
        for node in self.nodes.values():
            while not node.allocations(f"uclient-{node.name}"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uclient made no allocation on node {node.name}")
                time.sleep(0.1)  # polling the admin API, bounded
        if self.browser is None:
            return
        while True:
            try:
                line = self.browser_lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError("the browser call was not established:\n" +
                                   "".join(self.browser_output))
            if line.strip() == "established":
                return

    def open_session(self, session):
        users = ["u", "caller", "callee"]
        self.redis.master_cli("HSET", f"hearth:session:{session}", "state", "active",
                              "allocation_cap", "8")
        self.redis.master_cli("SADD", f"hearth:session:{session}:participants", *users)

    def master_cli(self, *arguments):
        """Whichever server the sentinels name master now."""
        port = int(self.redis.cli(self.redis.sentinels[0].port, "SENTINEL",
                                  "get-master-addr-by-name", MASTER_NAME).split()[-1])
        return self.redis.cli(port, *arguments)

    def fault(self, name, act):
        start = time.monotonic()
        act()
        self.faults.append((name, start, time.monotonic()))
        self.revoke_one_after(name)

    def revoke_one_after(self, fault):
        """A call made for it, revoked through the other node once the fault is over."""
        session = self.victims.pop(0)
        node = self.nodes["a"] if len(self.victims) % 2 == 0 else self.nodes["b"]
        call = Call(node, session, self.peer.sock.getsockname())
        other = self.nodes["b" if node is self.nodes["a"] else "a"]
        for _ in range(50):  # the store may still be on its way back
            try:
                other.admin(f"/v1/sessions/{session}/revoke", method="POST")
                break
            except OSError:
                time.sleep(0.2)  # polling the admin API until the store answers
        landed = False
        for _ in range(100):
            if not node.allocations(session):
                landed = True
                break
            time.sleep(0.05)  # polling the node's allocations, bounded
        call.close()
        self.revocations.append((fault, session, landed))

    def redis_stopped(self):
        self.redis.set_down_after(60000)
        self.redis.master_cli("SHUTDOWN", "SAVE")
        self.redis.master.process.wait(timeout=20)
        self.redis.master.stop()
        self.pause(3)
        self.redis.master = self.redis.server(self.redis.master_port)
        self.wait_for_nodes("Redis 127.0.0.1:%d connected" % self.redis.master_port)

    def redis_hung(self):
        os.kill(self.redis.master.process.pid, signal.SIGSTOP)
        self.pause(3)
        os.kill(self.redis.master.process.pid, signal.SIGCONT)
        self.wait_for_nodes("Redis 127.0.0.1:%d connected" % self.redis.master_port)

    def redis_failover(self):
        self.redis.set_down_after(1000)
        self.redis.master.process.send_signal(signal.SIGKILL)
        self.redis.master.stop()
        self.redis.master = None
        self.wait_for_nodes("Redis 127.0.0.1:%d connected" % self.redis.replica_port)

    def reloads(self):
        for _ in range(10):
            for node in self.nodes.values():
                mark = node.process.mark()
                node.process.process.send_signal(signal.SIGHUP)
                node.process.wait_for_line("reload: done", since=mark)

    def node_killed(self):
        node = self.nodes["b"]
        node.kill()
        self.pause(2)
        node.start()

    def pause(self, seconds):
        time.sleep(seconds)  # how long the fault lasts: that is the point

    def wait_for_nodes(self, line):
        for node in self.nodes.values():
            node.process.wait_for_line(line, timeout=60, since=getattr(node, "mark", 0))

    def run(self):
        gap = max(2.0, (self.seconds - 25) / 5)
        for name, act in (("redis stopped 3 s", self.redis_stopped),
                          ("redis hung 3 s", self.redis_hung),
                          ("redis failover", self.redis_failover),
                          ("10 reloads", self.reloads),
                          ("node b killed", self.node_killed)):
            self.pause(gap)
            for node in self.nodes.values():
                node.mark = node.process.mark()
            self.fault(name, act)
        self.pause(2)

    def slots_given_back(self):
        """The killed node's counts in Redis, for the sessions of its calls, within
        their expiry (a node started again gives them back at once)."""
        deadline = time.monotonic() + COUNT_TTL + 5
        keys = [f"hearth:session:{call.session}:allocations:b" for call in self.calls
                if call.node is self.nodes["b"]]
        while time.monotonic() < deadline:
            if all(self.master_cli("EXISTS", key) == "0" for key in keys):
                return True
            time.sleep(0.5)  # polling Redis, bounded by the expiry
        return False

    def report(self):
        ok = True
        print(f"{'fault':22} {'lasted':>7}  lost packets per call (50/s)")
        for name, start, end in self.faults:
            losses = ", ".join(f"{call.session}@{call.node.name}={call.lost_between(start, end + 1)}"
                               for call in self.calls)
            print(f"{name:22} {end - start:6.1f}s  {losses}")
        for call in self.calls:
            survived = call.node is self.nodes["a"]
            alive = call.refreshes()
            recent = call.lost_between(time.monotonic() - 3, time.monotonic() - 1)
            print(f"call {call.session} on node {call.node.name}: allocation "
                  f"{'kept' if alive else 'lost'}, lost {recent} of the last 2 s")
            if survived and (not alive or recent > 0):
                ok = False
        given_back = self.slots_given_back()
        print(f"node b's cap slots given back within {COUNT_TTL} s: {given_back}")
        ok = ok and given_back
        for fault, session, landed in self.revocations:
            print(f"revocation of {session} after '{fault}': {'landed' if landed else 'LOST'}")
            ok = ok and landed
        return ok

    def report_others(self):
        for process, peer, log in self.uclients:
            process.wait(timeout=self.seconds + 120)
            log.close()
            peer.stop()
        for name in ("a", "b"):
            with open(os.path.join(self.directory, f"uclient-{name}.log")) as log:
                lines = [line for line in log if "Total lost packets" in line]
            print(f"uclient through node {name}: {lines[-1].strip() if lines else 'no summary'}")
        if self.browser is None:
            return True
        self.browser.wait(timeout=self.seconds + 120)
        while self.browser_lines.get(timeout=10) is not None:
            pass  # the reader has seen the end of the output
        output = "".join(self.browser_output)
        reports = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        if not reports:
            print("browser call: no report\n" + output)
            return False
        last = reports[-1]
        print(f"browser call through node a: {last['packetsReceived']} video packets received, "
              f"{last['packetsLost']} lost, {last['framesDecoded']} frames, callee {last['callee']}")
        return last["callee"] == "connected"

    def close(self):
        for call in self.calls:
            call.close()
        self.peer.close()
        for process, peer, log in self.uclients:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            peer.stop()
        if self.browser is not None and self.browser.poll() is None:
            self.browser.kill()
            self.browser.wait(timeout=10)
        for node in self.nodes.values():
            node.process.stop()
        self.redis.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--no-browser", action="store_true")
    arguments = parser.parse_args()
    if not harness.HEARTHD:
        sys.exit("HEARTHD must name the hearthd binary")
    chaos = Chaos(arguments.seconds, not arguments.no_browser)
    try:
        chaos.wait_until_established()
        chaos.run()
        ok = chaos.report()
        ok = chaos.report_others() and ok
    finally:
        chaos.close()
    print("chaos: " + ("every check held" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
