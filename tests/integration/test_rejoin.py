"""Rejoin is never refused (issue 16): past limits.max_allocations_per_user, a user's
oldest allocation that has relayed nothing for limits.rejoin_idle_seconds is deleted
("replaced") and the new Allocate admitted; only a user whose allocations all relay gets
486. Two workers, so the replaced allocation may be another worker's. The session's
allocation_cap, counted in Redis across nodes, follows the same rule."""

import json
import socket
import time

import harness
import test_redis

IDLE_SECONDS = 1


class RejoinTest(harness.AdminApi, harness.HearthTest):
    relay_ports = (47000, 47999)

    def setUp(self):
        self.extra_config = (
            self.admin_config() +
            f"limits = {{ max_allocations_per_user = 2; "
            f"rejoin_idle_seconds = {IDLE_SECONDS}; }};")
        super().setUp()

    def allocation_ids(self):
        allocations = json.loads(self.admin("/v1/allocations?session=s1"))["allocations"]
        return {allocation["id"] for allocation in allocations}

    def client(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        return client

    def test_a_rejoin_replaces_the_oldest_idle_allocation(self):
        first = self.client()
        first.allocate()
        oldest = self.allocation_ids()
        second = self.client()
        second.allocate()
        self.assertEqual(len(self.allocation_ids()), 2)
        # The clients vanish without deleting anything, as a crashed browser does.
        first.close()
        second.close()
        # The idle window passing is the behaviour under test, not a synchronisation.
        time.sleep(IDLE_SECONDS + 0.5)

        mark = self.hearthd.mark()
        rejoined = self.client()
        self.assertEqual(rejoined.allocate()[0], "127.0.0.1")
        # The owning worker deletes it, maybe after the answer: wait for its line.
        self.hearthd.wait_for_line("reason=replaced", since=mark)
        self.assertEqual(self.metric("hearth_allocations_replaced_total"), 1)
        remaining = self.allocation_ids()
        self.assertEqual(len(remaining), 2)
        self.assertFalse(oldest & remaining, "the oldest allocation is still listed")

    def test_when_every_allocation_relays_the_allocate_gets_486(self):
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(5)
        peer_port = peer.getsockname()[1]
        active = [self.client(), self.client()]
        for client in active:
            client.allocate()
            client.permit("127.0.0.1", peer_port)

        def relay_from_both():
            for client in active:
                client.send_indication("127.0.0.1", peer_port, b"media")
            for _ in active:
                peer.recvfrom(64)  # relayed: each allocation's activity is recorded

        # Relaying through more than the idle window, then asking once more at once.
        deadline = time.monotonic() + IDLE_SECONDS + 0.5
        while time.monotonic() < deadline:
            relay_from_both()
            time.sleep(0.1)  # pacing the media, not a synchronisation
        relay_from_both()
        self.assertEqual(harness.error_code(self.client().allocate_answer()), 486)
        self.assertEqual(self.metric("hearth_allocations_replaced_total"), 0)
        self.assertEqual(len(self.allocation_ids()), 2)


class SessionCapRejoinTest(test_redis.RedisFixture):
    """The session's cap in Redis binds before the per-user cap (8): a crashed
    participant's rejoin is admitted on the slot of its idle allocation, which is
    deleted as replaced, and Redis counts the live allocations, no more, no less."""

    def session_count(self):
        """What the judge script sums: each listed node's unexpired count."""
        nodes = self.cli("SMEMBERS", "hearth:session:s1:nodes").split()
        return sum(int(self.cli("GET", f"hearth:session:s1:allocations:{node}") or 0)
                   for node in nodes)

    def allocations_of(self, node, user):
        path = f"/v1/allocations?session=s1&user={user}"
        return {allocation["id"] for allocation in
                json.loads(self.admin(node, path))["allocations"]}

    def client(self, node, user):
        client = harness.DatagramTurnClient(node.port, user=user)
        self.addCleanup(client.close)
        return client

    def test_a_crashed_participant_rejoins_a_full_session(self):
        self.open_session(cap=2)
        node = self.start_node(
            "a", extra_config=f"limits = {{ rejoin_idle_seconds = {IDLE_SECONDS}; }};")
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(5)
        alice = self.client(node, "alice")
        alice.allocate()
        alice.permit("127.0.0.1", peer.getsockname()[1])
        crashed = self.client(node, "bob")
        crashed.allocate()
        dead = self.allocations_of(node, "bob")
        self.assertEqual(self.session_count(), 2)
        # Over UDP the crashed browser leaves its allocation behind, deleting nothing.
        crashed.close()
        # The idle window passing is the behaviour under test, not a synchronisation:
        # nothing observable happens when an allocation becomes idle.
        time.sleep(IDLE_SECONDS + 0.5)

        mark = node.mark()
        self.assertEqual(self.client(node, "bob").allocate()[0], "127.0.0.1")
        # The owning worker deletes it, maybe after the answer: wait for its line.
        node.wait_for_line("reason=replaced", since=mark)
        self.assertEqual(self.metric(node, "hearth_allocations_replaced_total"), 1)
        self.assertFalse(dead & self.allocations_of(node, "bob"))
        self.assertEqual(len(self.allocations_of(node, "bob")), 1)
        self.assertEqual(len(self.allocations_of(node, "alice")), 1)
        # The slot went from the dead allocation to the new one: still 2, not 1 or 3.
        self.assertEqual(self.session_count(), 2)
        # And the cap still holds for a user whose allocations are all live.
        alice.send_indication("127.0.0.1", peer.getsockname()[1], b"media")
        peer.recvfrom(64)  # relayed: Alice's allocation is active
        self.assertEqual(harness.error_code(self.client(node, "alice").allocate_answer()), 486)
        self.assertEqual(self.session_count(), 2)


if __name__ == "__main__":
    import unittest
    unittest.main()
