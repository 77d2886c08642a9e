"""The Redis session store under real hearthd processes and a real redis-server: sessions
written with redis-cli, caps across nodes, revocation, and Redis going away and back."""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request
import json

import harness

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
ADMIN_TOKEN = "redis-test-admin-token-0123456789"


def hearthctl(node, *arguments, stdin=None):
    """hearthctl against `node`, its token in the environment (never on the command line)."""
    return subprocess.run([os.environ["HEARTHCTL"], "--admin", f"127.0.0.1:{node.admin_port}",
                           "--config", "/nonexistent", *arguments],
                          capture_output=True, text=True, timeout=30, input=stdin,
                          env=dict(os.environ, HEARTH_ADMIN_TOKEN=ADMIN_TOKEN))


class RedisFixture(unittest.TestCase):
    """A real redis-server for the test and hearthd nodes that use it."""

    def setUp(self):
        if REDIS_SERVER is None or REDIS_CLI is None:
            self.fail("redis-server is missing: run ./test.sh (it installs redis-server)")
        if not harness.HEARTHD:
            self.fail("HEARTHD must name the hearthd binary (ctest sets it)")
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.redis_port = harness.free_port((socket.SOCK_STREAM,))
        self.redis = None
        self.start_redis()
        self.addCleanup(self.stop_redis)

    # --- redis-server ---

    def start_redis(self):
        # Kept on disk only when asked (SHUTDOWN SAVE): a restart then finds every session,
        # as a production Redis with persistence or a replica would.
        self.redis = harness.Process([REDIS_SERVER, "--port", str(self.redis_port), "--bind",
                                      "127.0.0.1", "--save", "", "--appendonly", "no",
                                      "--dir", self.directory.name],
                                     "redis-server")
        self.redis.wait_for_line("Ready to accept connections")

    def restart_redis_keeping_its_data(self):
        """Stops Redis as an operator would (SHUTDOWN SAVE), then starts it again."""
        self.shut_redis_down()
        self.start_redis()

    def shut_redis_down(self):
        """SHUTDOWN SAVE: the next start_redis finds every session again."""
        self.cli("SHUTDOWN", "SAVE")
        self.assertEqual(self.redis.process.wait(timeout=20), 0)
        self.redis.stop()
        self.redis = None

    def stop_redis(self):
        if self.redis is not None:
            self.redis.stop()
            self.redis = None

    def cli(self, *arguments):
        result = subprocess.run([REDIS_CLI, "-p", str(self.redis_port), *arguments],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def open_session(self, session="s1", cap=4, participants=("alice", "bob")):
        # Exactly what a backend does (README "Redis schema").
        self.cli("HSET", f"hearth:session:{session}", "state", "active", "not_before", "0",
                 "not_after", "0", "allocation_cap", str(cap))
        self.cli("SADD", f"hearth:session:{session}:participants", *participants)
        self.cli("SADD", "hearth:sessions", session)

    # --- hearthd nodes ---

    def start_node(self, name, workers=2, grace=60, redis_settings="", extra_config=""):
        """`extra_config`: more top-level groups for the node's config (e.g. audit)."""
        port = harness.free_port()
        admin_port = harness.free_port((socket.SOCK_STREAM,))
        base = 47000 + 500 * (len(getattr(self, "nodes", [])))
        config = harness.config_text(port, (base, base + 499), extra=f"""
admin = {{ listen = "127.0.0.1:{admin_port}"; token = "{ADMIN_TOKEN}"; }};
{extra_config}
""").replace("workers = 2;", f"workers = {workers};").replace(
            'session_store = { kind = "embedded";',
             f'session_store = {{ kind = "redis"; redis = {{ port = {self.redis_port}; '
             f'node_id = "{name}"; grace = {grace}; metrics_interval = 1; {redis_settings} }};')
        path = os.path.join(self.directory.name, f"{name}.conf")
        with open(path, "w") as file:
            file.write(config)
        node = harness.Process([harness.HEARTHD, "--config", path], f"hearthd {name}",
                               harness.signal.SIGINT)
        node.killed = False
        self.addCleanup(lambda: node.killed or harness.stop_cleanly(self, node))
        node.wait_for_line("hearthd ready:")
        node.wait_for_line("Redis 127.0.0.1")
        node.port = port
        node.admin_port = admin_port
        self.nodes = getattr(self, "nodes", []) + [node]
        return node

    def kill_node(self, node):
        """kill -9: no drain, no goodbye to Redis."""
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(timeout=10)
        node.stop()
        node.killed = True

    def admin(self, node, path, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{node.admin_port}{path}",
                                         method=method,
                                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def health(self, node):
        return json.loads(self.admin(node, "/v1/status"))

    def metric(self, node, name):
        """The value of one sample of /metrics, e.g. 'hearth_requests_parked_total'."""
        for line in self.admin(node, "/metrics").splitlines():
            if line.startswith(name + " "):
                return int(line.split()[-1])
        raise AssertionError(f"no sample {name}")

    def allocate(self, node, session="s1", user="alice"):
        """An allocation over TCP; returns the client, or the error code as an int."""
        client = harness.StreamTurnClient(node.port, session=session, user=user)
        self.addCleanup(client.close)
        try:
            client.relayed = client.allocate()
        except AssertionError as refused:
            return int(str(refused).split()[-1])
        return client


class RedisTest(RedisFixture):
    def test_sessions_come_from_redis(self):
        node = self.start_node("a")
        self.assertEqual(self.allocate(node), 401)
        node.wait_for_line("unknown session")
        self.open_session()
        self.assertIsInstance(self.allocate(node), harness.StreamTurnClient)
        self.assertEqual(self.allocate(node, user="mallory"), 401)
        node.wait_for_line("user is not a participant")

    def test_call_quality_is_written_for_the_backend(self):
        self.open_session()
        node = self.start_node("a")
        self.assertIsInstance(self.allocate(node), harness.StreamTurnClient)
        written = {}
        for _ in range(100):  # bounded: metrics_interval is 1 s, so a few seconds at most
            raw = self.cli("HGETALL", "hearth:session:s1:quality").splitlines()
            written = dict(zip(raw[0::2], raw[1::2]))
            if written:
                break
            time.sleep(0.1)
        self.assertEqual(len(written), 1, "no quality written within 10 s")
        (field, value), = written.items()
        self.assertTrue(field.startswith("a/"))
        quality = json.loads(value)
        self.assertEqual((quality["user"], quality["transport"]), ("alice", "tcp"))
        self.assertIn("jitter_ms", quality["peer_to_client"])
        self.assertEqual(quality["quality"], 100)
        self.assertGreater(int(self.cli("TTL", "hearth:session:s1:quality")), 0)

    def test_the_cap_holds_across_nodes(self):
        self.open_session(cap=2)
        first, second = self.start_node("a"), self.start_node("b")
        self.assertIsInstance(self.allocate(first), harness.StreamTurnClient)
        self.assertIsInstance(self.allocate(second, user="bob"), harness.StreamTurnClient)
        self.assertEqual(self.allocate(second), 486)
        self.assertEqual(self.allocate(first, user="bob"), 486)
        second.wait_for_line("session allocation cap reached")

    def test_a_published_revocation_tears_down_on_every_node(self):
        self.open_session()
        first, second = self.start_node("a"), self.start_node("b")
        clients = [self.allocate(first), self.allocate(second, user="bob")]
        self.assertTrue(all(isinstance(c, harness.StreamTurnClient) for c in clients))
        started = time.monotonic()
        self.cli("HSET", "hearth:session:s1", "state", "ended")
        self.cli("PUBLISH", "hearth:revocations", "s1")
        for node in (first, second):
            node.wait_for_line("reason=session revoked", timeout=5)
        self.assertLess(time.monotonic() - started, 1.0)  # "within one second"
        self.assertEqual(self.allocate(first), 401)
        for client in clients:
            self.assertIn(harness.error_code(client.request(harness.REFRESH, [])), (401, 437))

    def test_relaying_survives_a_redis_outage_and_unknown_sessions_fail_closed(self):
        self.open_session()
        node = self.start_node("a")
        client = self.allocate(node)
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        client.permit(*peer.getsockname())

        self.stop_redis()
        node.wait_for_line("Redis 127.0.0.1:%d lost" % self.redis_port)
        self.assertEqual(self.health(node)["session_store_state"], "down")
        # An existing allocation keeps relaying: a peer datagram reaches the client.
        peer.sendto(b"still relaying", client.relayed)
        data = harness.read_stun_from_stream(client.sock)
        self.assertEqual(struct.unpack("!H", data[0:2])[0], 0x0017)
        self.assertIn(b"still relaying", data)
        # A session seen active is honoured within the grace; an unknown one is refused.
        self.assertIsInstance(self.allocate(node), harness.StreamTurnClient)
        self.assertEqual(self.allocate(node, session="never-seen"), 500)

        mark = node.mark()
        self.start_redis()
        node.wait_for_line("Redis 127.0.0.1:%d connected" % self.redis_port, timeout=30,
                           since=mark)
        self.open_session("s2")
        self.assertIsInstance(self.allocate(node, session="s2"), harness.StreamTurnClient)

    def test_secrets_held_in_redis_are_used_after_a_reload(self):
        self.open_session()
        node = self.start_node("a")
        redis_secret = "redis-held-secret-0123456789abcdef"
        self.cli("HSET", "hearth:secrets", "zz-2026-12", redis_secret)
        mark = node.mark()
        node.process.send_signal(harness.signal.SIGHUP)
        node.wait_for_line("secrets in use: test, zz-2026-12", since=mark)
        client = harness.StreamTurnClient(node.port, secret=redis_secret)
        self.addCleanup(client.close)
        client.allocate()
        minted = hearthctl(node, "mint", "--session", "s1", "--user", "bob")
        server = json.loads(minted.stdout)
        expected = harness.base64.b64encode(harness.hmac.new(
            redis_secret.encode(), server["username"].encode(), harness.hashlib.sha1).digest())
        self.assertEqual(server["credential"], expected.decode())

    def test_hearthctl_adds_and_retires_redis_secrets(self):
        self.open_session()
        node = self.start_node("a")
        # The value on stdin, never on the command line (where ps shows it).
        added = hearthctl(node, "secrets", "add", "zz-new", stdin="a-brand-new-secret-0123456789\n")
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertEqual(self.cli("HGET", "hearth:secrets", "zz-new"), "a-brand-new-secret-0123456789")
        client = harness.StreamTurnClient(node.port, secret="a-brand-new-secret-0123456789")
        self.addCleanup(client.close)
        client.allocate()
        retired = hearthctl(node, "secrets", "retire", "zz-new")
        self.assertEqual(retired.returncode, 0, retired.stderr)
        late = harness.StreamTurnClient(node.port, secret="a-brand-new-secret-0123456789")
        self.addCleanup(late.close)
        with self.assertRaises(AssertionError):
            late.allocate()

    def test_hearthctl_revoke_publishes_to_every_node(self):
        self.open_session()
        first, second = self.start_node("a"), self.start_node("b")
        self.assertIsInstance(self.allocate(second, user="bob"), harness.StreamTurnClient)
        result = hearthctl(first, "revoke", "s1", "--user", "bob")
        self.assertEqual(result.returncode, 0, result.stderr)
        second.wait_for_line("reason=session revoked", timeout=5)
        self.assertEqual(self.cli("SISMEMBER", "hearth:session:s1:participants", "bob"), "0")


class DrainTest(RedisFixture):
    """Three nodes sharing one Redis: registry, drain with redirect, exit when done."""

    def hearthctl(self, node, *arguments):
        return hearthctl(node, *arguments)

    def test_a_draining_node_redirects_to_a_live_one_and_exits_when_empty(self):
        self.open_session()
        a, b, c = self.start_node("a"), self.start_node("b"), self.start_node("c")
        nodes = self.hearthctl(a, "status", "--all")
        self.assertEqual(nodes.returncode, 0, nodes.stderr)
        for name in ("a", "b", "c"):
            self.assertIn(f"\n{name} ", "\n" + nodes.stdout)

        client = self.allocate(a)
        self.assertIsInstance(client, harness.StreamTurnClient)
        drained = self.hearthctl(a, "drain", "--deadline", "60")
        self.assertEqual(drained.returncode, 0, drained.stderr)
        a.wait_for_line("draining: redirecting to")
        self.assertTrue(self.health(a)["draining"])

        # A new Allocate is answered 300 with the address of b or c.
        newcomer = harness.StreamTurnClient(a.port, user="bob")
        self.addCleanup(newcomer.close)
        transport = [(0x0019, bytes([17, 0, 0, 0]))]
        first = newcomer.request(harness.ALLOCATE, transport)
        for kind, value, _ in harness.attributes(first):
            if kind == 0x0015:
                newcomer.nonce = value.decode()
        answer = newcomer.request(harness.ALLOCATE, transport)
        self.assertEqual(harness.error_code(answer), 300)
        alternate = [value for kind, value, _ in harness.attributes(answer) if kind == 0x8023][0]
        port = struct.unpack("!H", alternate[2:4])[0]
        self.assertIn(port, (b.port, c.port))

        # The old allocation keeps working, and its end lets the node exit by itself.
        self.assertEqual(struct.unpack("!H", client.request(harness.REFRESH, [])[0:2])[0], 0x0104)
        client.request(harness.REFRESH, [(0x000D, struct.pack("!I", 0))])
        a.wait_for_line("drain done: 0 allocation(s) left")
        self.assertEqual(a.process.wait(timeout=10), 0)

    def test_sigterm_drains_and_an_idle_node_stops_at_once(self):
        node = self.start_node("a")
        node.process.send_signal(harness.signal.SIGTERM)
        node.wait_for_line("SIGTERM: draining")
        self.assertEqual(node.process.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
