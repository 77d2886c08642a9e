"""Redis Sentinel under real processes: a master, a replica and three sentinels on
loopback, two hearthd nodes asking the sentinels for the master. A call relays through
one node while the master is killed: the call keeps its allocation, new allocations work
again on the promoted replica, and a revocation still reaches every node."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import unittest

import harness
import test_redis

REDIS_SENTINEL = shutil.which("redis-sentinel")
MASTER_NAME = "hearth"


class SentinelFailoverTest(test_redis.RedisFixture):
    def setUp(self):
        if REDIS_SENTINEL is None:
            self.fail("redis-sentinel is missing: run ./test.sh (it installs redis-sentinel)")
        super().setUp()  # the master, on self.redis_port
        self.replica_port = harness.free_port((socket.SOCK_STREAM,))
        # The replica writes the master's snapshot to disk as it syncs: its own directory,
        # never the working one.
        replica_directory = os.path.join(self.directory.name, "replica")
        os.mkdir(replica_directory)
        self.replica = harness.Process(
            [test_redis.REDIS_SERVER, "--port", str(self.replica_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", replica_directory,
             "--replicaof", "127.0.0.1", str(self.redis_port)],
            "redis replica")
        self.addCleanup(self.replica.stop)
        self.replica.wait_for_line("MASTER <-> REPLICA sync: Finished with success")
        self.sentinels = [self.start_sentinel(index) for index in range(3)]

    def start_sentinel(self, index):
        port = harness.free_port((socket.SOCK_STREAM,))
        path = os.path.join(self.directory.name, f"sentinel{index}.conf")
        with open(path, "w") as config:  # a sentinel rewrites its own config: a copy of ours
            config.write(f"port {port}\nbind 127.0.0.1\ndir {self.directory.name}\n"
                         f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.redis_port} 2\n"
                         f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                         f"sentinel failover-timeout {MASTER_NAME} 10000\n")
        sentinel = harness.Process([REDIS_SENTINEL, path], f"sentinel {index}")
        self.addCleanup(sentinel.stop)
        sentinel.wait_for_line(f"+slave slave 127.0.0.1:{self.replica_port}", timeout=30)
        sentinel.port = port
        return sentinel

    def start_sentinel_node(self, name):
        sentinels = ", ".join(f'"127.0.0.1:{s.port}"' for s in self.sentinels)
        return self.start_node(name, redis_settings=f'sentinels = [ {sentinels} ]; '
                                                    f'master_name = "{MASTER_NAME}"; '
                                                    'command_timeout_ms = 500;')

    def relays(self, client, peer):
        """A Send indication reaches the peer, and its echo comes back as a Data indication."""
        payload = os.urandom(8)
        client.send_indication(*peer.getsockname(), payload)
        data, source = peer.recvfrom(2048)
        self.assertEqual(data, payload)
        peer.sendto(data, source)
        answer = harness.read_stun_from_stream(client.sock)
        self.assertEqual(struct.unpack("!H", answer[0:2])[0], 0x0017)  # Data indication
        self.assertIn(payload, answer)

    def test_a_call_survives_the_masters_death_and_the_cluster_carries_on(self):
        self.open_session(participants=("alice", "bob", "carol"), cap=8)
        a, b = self.start_sentinel_node("a"), self.start_sentinel_node("b")
        call = self.allocate(a)
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(10)
        call.permit(*peer.getsockname())
        self.relays(call, peer)

        marks = {node: node.mark() for node in (a, b)}
        self.redis.process.send_signal(signal.SIGKILL)  # the master dies, without a word
        self.redis.stop()
        self.redis = None
        for sentinel in self.sentinels:
            sentinel.wait_for_line(f"+switch-master {MASTER_NAME} 127.0.0.1 {self.redis_port} "
                                   f"127.0.0.1 {self.replica_port}", timeout=60)
        for node in (a, b):
            node.wait_for_line(f"Redis 127.0.0.1:{self.replica_port} connected", timeout=60,
                               since=marks[node])

        # The call never lost its allocation: it relays and refreshes on the new master.
        self.relays(call, peer)
        refreshed = call.request(harness.REFRESH, [(0x000D, struct.pack("!I", 600))])
        self.assertEqual(struct.unpack("!H", refreshed[0:2])[0], 0x0104)
        # New allocations work again, on both nodes.
        self.assertIsInstance(self.allocate(b, user="bob"), harness.StreamTurnClient)
        self.assertIsInstance(self.allocate(a, user="carol"), harness.StreamTurnClient)
        # The registry lives on the new master too.
        nodes = json.loads(self.admin(a, "/v1/nodes"))["nodes"]
        self.assertEqual(sorted(node["id"] for node in nodes), ["a", "b"])
        # And a revocation made on one node reaches the other.
        revoked = json.loads(self.admin(b, "/v1/sessions/s1/revoke", method="POST"))
        self.assertEqual(revoked["session"], "s1")
        a.wait_for_line("revocation received: session s1", since=marks[a])
        for _ in range(100):  # bounded: the teardown is posted to the workers
            if not json.loads(self.admin(a, "/v1/allocations"))["allocations"]:
                break
        self.assertEqual(json.loads(self.admin(a, "/v1/allocations"))["allocations"], [])


if __name__ == "__main__":
    unittest.main()
