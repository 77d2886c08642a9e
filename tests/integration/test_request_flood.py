"""A participant floods its worker with Refreshes while the session store (a real Redis)
answers them later: the other clients of that worker are answered, each parked request
is handed in at most once, and the parked table stays within its bounds."""

import os
import socket
import struct
import unittest

import harness
import test_redis

FLOOD = 4000


class RefreshFloodTest(test_redis.RedisFixture):
    def attacker(self, node):
        """A UDP client of its own address (127.0.0.2), so that its per-source bounds are
        not the victim's, with one allocation."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.2", 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", node.port))
        client = harness.TurnClient(sock, user="alice")
        client.exchange = lambda request: (sock.send(request), sock.recv(4096))[1]
        client.transmit = sock.send
        self.addCleanup(client.close)
        client.allocate()
        return client

    def test_a_refresh_flood_leaves_other_clients_answered(self):
        self.open_session(cap=16, participants=("alice", "bob"))
        node = self.start_node("a", workers=1)  # the attacker and the victim share it
        attacker = self.attacker(node)
        parked_before = self.metric(node, "hearth_requests_parked_total")

        lifetime = [(0x000D, struct.pack("!I", 600))]
        credentials = [(0x0006, attacker.username.encode()), (0x0014, b"hearth"),
                       (0x0015, attacker.nonce.encode())]
        for _ in range(FLOOD):
            attacker.transmit(harness.message(harness.REFRESH, lifetime + credentials,
                                              os.urandom(12), key=attacker.key))

        # While the flood is queued and parked, another participant on the same worker.
        victim = harness.DatagramTurnClient(node.port, user="bob")
        self.addCleanup(victim.close)
        binding = victim.exchange(harness.binding_request(os.urandom(12)))
        self.assertEqual(struct.unpack("!H", binding[0:2])[0], 0x0101)
        victim.allocate()  # raises unless the Allocate succeeds

        # Every Refresh gets at most one answer; those that waited for Redis were handed
        # in once each and answered, the rest refused or dropped and counted.
        answers = {}
        attacker.sock.settimeout(2)
        try:
            while True:
                answer = attacker.sock.recv(4096)
                answers[answer[8:20]] = answers.get(answer[8:20], 0) + 1
        except socket.timeout:
            pass
        self.assertTrue(all(count == 1 for count in answers.values()))
        self.assertLessEqual(len(answers), FLOOD)

        # Each request parked is handed in again once, when its question is answered: the
        # work is linear in the flood (the table used to be replayed whole at every answer,
        # thousands of times over). The victim's Allocate waited for Redis too.
        parked = self.metric(node, "hearth_requests_parked_total") - parked_before
        resumed = self.metric(node, "hearth_requests_resumed_total")
        self.assertGreaterEqual(parked, 2)
        self.assertLessEqual(parked, FLOOD + 1)
        self.assertEqual(resumed, self.metric(node, "hearth_requests_parked_total"))
        # What the attacker sent past its share of the table, or past its request rate, was
        # refused or dropped, and counted.
        self.assertGreater(self.store_queue_drops(node) + self.rate_limited(node), 0)

    def store_queue_drops(self, node):
        return self.sample(node, 'hearth_dropped_packets_total{reason="store_queue_full"}')

    def rate_limited(self, node):
        return self.sample(node, 'hearth_rate_limited_requests_total{limit="upkeep"}',
                           missing=0)

    def sample(self, node, series, missing=None):
        for line in self.admin(node, "/metrics").splitlines():
            if line.startswith(series + " "):
                return int(line.split()[-1])
        if missing is not None:
            return missing
        raise AssertionError(f"no sample {series}")


if __name__ == "__main__":
    unittest.main()
