#!/usr/bin/env python3
"""Soak and fault test: allocations churn over UDP, TCP and TLS for a bounded time while
redis-server restarts, the certificate is reloaded (SIGHUP), one worker is flooded, and
half the clients vanish without a Refresh. Loopback only. Afterwards:

- every allocation created was deleted, with an audit line each (created ids == deleted ids);
- no file descriptor is left over and memory is back near where it was once warm;
- nothing reached the refused peer, while the allowed one received data;
- hearthd is alive and stops cleanly.

    tests/integration/soak.py --seconds 600        # ten minutes
ctest runs it for 40 s (integration_soak). HEARTHD names the binary.
"""

import argparse
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import harness

TOKEN = "soak-test-admin-token-0123456789abcd"
LIFETIME = 8  # seconds: a vanished UDP client's allocation ends this long after it left


class TlsTurnClient(harness.StreamTurnClient):
    """The same client over TLS (the test certificate is self-signed: not verified)."""

    def __init__(self, port, **credentials):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        harness.TurnClient.__init__(self, context.wrap_socket(raw, server_hostname="localhost"),
                                    **credentials)


class Sink:
    """A UDP socket that counts what arrives: the allowed peer, or the refused one."""

    def __init__(self, host):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()
        self.received = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                self.sock.recvfrom(4096)
                self.received += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


class Soak:
    def __init__(self, seconds, clients):
        self.seconds = seconds
        self.client_threads = clients
        self.directory = tempfile.TemporaryDirectory()
        self.cleanups = []
        self.stats = {"allocated": 0, "released": 0, "vanished": 0, "timeouts": 0,
                      "port_reused": 0}
        self.failures = []
        self.lock = threading.Lock()

    # --- processes ---

    def start(self):
        redis_server = shutil.which("redis-server")
        if redis_server is None or not harness.HEARTHD:
            raise SystemExit("soak: needs redis-server and HEARTHD (run ./test.sh)")
        # Persistent, as in production: the sessions survive the restarts.
        self.redis_argv = [redis_server, "--port", None, "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "yes", "--appendfsync", "always",
                           "--dir", self.directory.name]
        self.redis_port = harness.free_port((socket.SOCK_STREAM,))
        self.redis_argv[2] = str(self.redis_port)
        self.redis = None
        self.start_redis()
        self.cli("HSET", "hearth:session:soak", "state", "active", "not_before", "0",
                 "not_after", "0", "allocation_cap", "100000")
        self.cli("SADD", "hearth:session:soak:participants", "alice")
        self.cli("SADD", "hearth:sessions", "soak")

        self.port = harness.free_port()
        self.tls_port = harness.free_port((socket.SOCK_STREAM,))
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.certificate, self.key = harness.make_certificate(self.directory.name)
        config = harness.config_text(
            self.port, (44000, 44999), allow_loopback=False,
            tls=(self.tls_port, self.certificate, self.key), extra=f"""
admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{TOKEN}"; }};
limits = {{ allocation_lifetime_default = {LIFETIME}; unauthenticated_requests_per_second = 0;
           allocate_requests_per_second = 0; upkeep_requests_per_second = 0;
           max_allocations_per_user = 100000; max_connections_per_source = 100000;
           auth_failures_before_ban = 0; }};
""").replace('session_store = { kind = "embedded";',
             f'session_store = {{ kind = "redis"; redis = {{ port = {self.redis_port}; '
             f'grace = 120; metrics_interval = 1; }};')
        # Only the allowed sink's address is open; 127.0.0.2 stays refused (loopback).
        config = config.replace("peer_policy = { allow = [ ]; };",
                                'peer_policy = { allow = [ "127.0.0.1/32" ]; };')
        path = os.path.join(self.directory.name, "hearth.conf")
        with open(path, "w") as file:
            file.write(config)
        self.hearthd = harness.Process([harness.HEARTHD, "--config", path], "hearthd",
                                       harness.signal.SIGINT)
        self.hearthd.wait_for_line("hearthd ready:")
        self.hearthd.wait_for_line("Redis 127.0.0.1")
        self.allowed = Sink("127.0.0.1")
        self.refused = Sink("127.0.0.2")

    def start_redis(self):
        self.redis = harness.Process(self.redis_argv, "redis-server")
        self.redis.wait_for_line("Ready to accept connections")

    def cli(self, *arguments):
        subprocess.run(["redis-cli", "-p", str(self.redis_port), *arguments], check=True,
                       capture_output=True, timeout=10)

    def stop(self):
        for sink in (getattr(self, "allowed", None), getattr(self, "refused", None)):
            if sink is not None:
                sink.close()
        code = self.hearthd.stop() if hasattr(self, "hearthd") else 0
        if self.redis is not None:
            self.redis.stop()
        self.directory.cleanup()
        return code

    # --- measurements ---

    def admin(self, path):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def metric(self, name):
        for line in self.admin("/metrics").splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return int(float(line.split()[-1]))
        raise AssertionError(f"no metric {name}")

    def descriptors(self):
        """hearthd's open descriptors, as their targets, less the admin API connections this
        script's own requests may still hold open: the admin API lets go of a closed one
        within 100 ms (admin/admin_connections.h), and one the script reset is listed in
        no /proc/net table, so those are read from copies of hearthd's descriptors."""
        directory = f"/proc/{self.hearthd.process.pid}/fd"
        targets = []
        for name in os.listdir(directory):
            try:
                targets.append(os.readlink(os.path.join(directory, name)))
            except FileNotFoundError:
                continue
        sockets = {target[len("socket:["):-1] for target in targets
                   if target.startswith("socket:[")}
        admin = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as rows:
                for row in list(rows)[1:]:
                    fields = row.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    if local_port == self.admin_port and fields[3] != "0A":  # not LISTEN
                        admin.add(fields[9])
                    sockets.discard(fields[9])
        for inode, (local, _) in harness.unlisted_sockets(self.hearthd.process.pid,
                                                          sockets).items():
            if local[1] == self.admin_port:
                admin.add(inode)
        return sorted(target for target in targets if target[len("socket:["):-1] not in admin)

    def rss_kib(self):
        return harness.rss_kib(self.hearthd.process.pid)

    def sanitized(self):
        with open(f"/proc/{self.hearthd.process.pid}/maps") as maps:
            return "libasan" in maps.read()

    # --- load ---

    def one_client(self, rng, deadline):
        kind = rng.choice(("udp", "tcp", "tls"))
        if kind == "udp":
            client = harness.DatagramTurnClient(self.port, session="soak")
        elif kind == "tcp":
            client = harness.StreamTurnClient(self.port, session="soak")
        else:
            client = TlsTurnClient(self.tls_port, session="soak")
        try:
            answer = client.allocate_answer()
            if harness.error_code(answer) == 437:
                # The kernel gave this client the port of a vanished one whose allocation
                # still lives: RFC 8656 §7.2's answer, and a real client moves on.
                with self.lock:
                    self.stats["port_reused"] += 1
                return
            if harness.error_code(answer) != 0:
                raise AssertionError(f"Allocate: {harness.error_code(answer)}")
            with self.lock:
                self.stats["allocated"] += 1
            transaction_id = os.urandom(12)
            answer = client.request(harness.CREATE_PERMISSION,
                                    [(0x0012, harness.xor_peer(*self.allowed.address,
                                                               transaction_id))],
                                    transaction_id)
            if harness.error_code(answer) != 0:
                raise AssertionError(f"CreatePermission: {harness.error_code(answer)}")
            for _ in range(rng.randint(1, 20)):
                if time.monotonic() > deadline:
                    break
                client.send_indication(*self.allowed.address, os.urandom(rng.randint(16, 1200)))
                client.send_indication(*self.refused.address, b"must never arrive")
            if rng.random() < 0.5:
                client.request(harness.REFRESH, [(0x000D, (0).to_bytes(4, "big"))])
                with self.lock:
                    self.stats["released"] += 1
            else:
                with self.lock:
                    self.stats["vanished"] += 1
        finally:
            client.close()

    def churn(self, index, deadline):
        rng = random.Random(index)
        while time.monotonic() < deadline:
            try:
                self.one_client(rng, deadline)
            except (socket.timeout, TimeoutError):
                # A request lost while a worker is flooded is what UDP does; counted.
                with self.lock:
                    self.stats["timeouts"] += 1
            except (OSError, AssertionError, ssl.SSLError) as error:
                with self.lock:
                    self.failures.append(f"{type(error).__name__}: {error}")

    def faults(self, deadline):
        cycle = 0
        while time.monotonic() < deadline - 5:
            cycle += 1
            # Redis goes away and comes back on the same port; hearthd reconnects.
            mark = self.hearthd.mark()
            self.redis.stop()
            self.start_redis()
            self.hearthd.wait_for_line(f"Redis 127.0.0.1:{self.redis_port} connected",
                                       since=mark)
            # A new certificate, then SIGHUP.
            mark = self.hearthd.mark()
            harness.make_certificate(self.directory.name)
            self.hearthd.process.send_signal(harness.signal.SIGHUP)
            self.hearthd.wait_for_line("TLS certificate reloaded", since=mark)
            # One source floods the UDP listener for three seconds: SO_REUSEPORT puts it
            # all on one worker.
            subprocess.run([sys.executable, "-c", FLOOD, str(self.port), "3"], timeout=30,
                           check=True)
        return cycle

    def run(self):
        # Warm-up: one short churn, so the allocator's pools and the tables have grown once.
        warm_deadline = time.monotonic() + min(5, self.seconds / 4)
        self.run_clients(warm_deadline)
        self.wait_for_no_allocations()
        base_descriptors = self.descriptors()
        base_rss = self.rss_kib()

        deadline = time.monotonic() + self.seconds
        fault_result = {}
        faults = threading.Thread(target=lambda: fault_result.setdefault(
            "cycles", self.faults(deadline)))
        faults.start()
        self.run_clients(deadline)
        faults.join(timeout=120)
        self.wait_for_no_allocations()

        problems = list(self.failures[:10])
        if self.failures:
            problems.insert(0, f"{len(self.failures)} client failures")
        created = set(re.findall(r"allocation (\d+) created", self.hearthd.output()))
        deleted = set(re.findall(r"allocation (\d+) deleted", self.hearthd.output()))
        if created != deleted:
            problems.append(f"allocations without an audit line: created-deleted "
                            f"{sorted(created - deleted)[:5]}, deleted-created "
                            f"{sorted(deleted - created)[:5]}")
        if self.metric("hearth_allocations_created_total") != len(created):
            problems.append("hearth_allocations_created_total disagrees with the log")
        end_descriptors = self.descriptors()
        if len(end_descriptors) > len(base_descriptors):
            problems.append(f"descriptors: {base_descriptors} once warm, {end_descriptors} after; "
                            f"the sockets: {harness.sockets_described(end_descriptors, self.hearthd.process.pid)}")
        end_rss = self.rss_kib()
        # Near the start: within 16 MiB of the warm figure (glibc keeps freed arenas).
        # Under AddressSanitizer freed memory sits in its quarantine and RSS says nothing;
        # LeakSanitizer checks for leaks at exit instead.
        if not self.sanitized() and end_rss > base_rss + 16 * 1024:
            problems.append(f"RSS: {base_rss} KiB once warm, {end_rss} KiB after")
        if self.refused.received:
            problems.append(f"{self.refused.received} packets reached the refused peer")
        if not self.allowed.received:
            problems.append("nothing reached the allowed peer")
        if self.metric("hearth_peer_policy_refusals_total") == 0:
            problems.append("no peer policy refusal was counted")
        if not fault_result.get("cycles"):
            problems.append("no fault cycle completed")
        if self.hearthd.process.poll() is not None:
            problems.append("hearthd exited")

        print(f"soak: {self.seconds:.0f} s, {len(created)} allocations "
              f"({self.stats['released']} released, {self.stats['vanished']} vanished), "
              f"{self.stats['timeouts']} timeouts under flood, {self.stats['port_reused']} "
              f"437 on a reused port, {fault_result.get('cycles', 0)} "
              f"fault cycles; descriptors {len(base_descriptors)} -> {len(end_descriptors)}; RSS "
              f"{base_rss} -> {end_rss} KiB; allowed peer got {self.allowed.received}, "
              f"refused peer {self.refused.received}")
        return problems

    def run_clients(self, deadline):
        threads = [threading.Thread(target=self.churn, args=(i, deadline))
                   for i in range(self.client_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=deadline - time.monotonic() + 60)

    def wait_for_no_allocations(self):
        """Waits for the audit line of every allocation's end: vanished UDP clients'
        allocations end with their lifetime."""
        for allocation in re.findall(r"allocation (\d+) created", self.hearthd.output()):
            self.hearthd.wait_for_line(f"allocation {allocation} deleted", timeout=LIFETIME + 20)
        active = self.metric("hearth_allocations_active")
        if active != 0:
            raise AssertionError(f"{active} allocations still active")


FLOOD = """
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
garbage = bytes([0x40, 0x00, 0x00, 0x04]) + b"abcd"
end = time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(256):
        sock.sendto(garbage, ("127.0.0.1", port))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=6, help="client threads")
    arguments = parser.parse_args()
    soak = Soak(arguments.seconds, arguments.clients)
    try:
        soak.start()
        problems = soak.run()
    finally:
        code = soak.stop()
    if code not in (0, None):
        problems.append(f"hearthd exited with {code}")
    for problem in problems:
        print("soak: FAIL:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
