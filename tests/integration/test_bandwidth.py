"""Relayed bandwidth limits through a real hearthd (limits.allocation_bandwidth_bps):
UDP datagrams over an allocation's budget are dropped and counted; an RFC 6062 TCP relay
over budget is delayed, every byte arriving in order, and its pauses are counted."""

import json
import os
import socket
import time

import harness

# 400 kbit/s: 50 kB a second, and a bucket that saves up half a second (25 kB).
RATE_BPS = 400_000


class BandwidthTest(harness.AdminApi, harness.HearthTest):
    relay_extra = harness.TCP_ALLOCATIONS  # one test relays over RFC 6062

    def setUp(self):
        self.extra_config = (
            self.admin_config() +
            f"limits = {{ allocation_bandwidth_bps = {RATE_BPS}; session_bandwidth_bps = 0; }};")
        super().setUp()

    def only_allocation(self):
        allocations = json.loads(self.admin("/v1/allocations"))["allocations"]
        self.assertEqual(len(allocations), 1)
        return allocations[0]

    def test_udp_datagrams_over_the_budget_are_dropped_and_counted(self):
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(1.0)
        peer_port = peer.getsockname()[1]
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        client.permit("127.0.0.1", peer_port)

        # 100 kB at once: four times what the bucket holds.
        offered = 100
        for _ in range(offered):
            client.send_indication("127.0.0.1", peer_port, b"x" * 1000)
        received = 0
        try:
            while received < offered:
                peer.recvfrom(2048)
                received += 1
        except socket.timeout:
            pass  # the rest were dropped; a second of silence says none is on its way

        self.assertGreater(received, 0)
        self.assertLess(received, offered / 2)
        counters = self.only_allocation()["client_to_peer"]
        self.assertEqual(counters["packets"], received)
        self.assertEqual(counters["dropped"]["bandwidth"], offered - received)

    def test_a_tcp_relay_over_the_budget_is_delayed_not_cut_even_when_the_peer_closes(self):
        data, peer = harness.open_tcp_relay(self, self.port)

        # 150 kB: six times the saved-up burst, so most of it waits for the budget. The
        # peer closes at once; what it sent must still all arrive, then the close.
        sent = os.urandom(150_000)
        start = time.monotonic()
        peer.sendall(sent)
        peer.close()
        received = b""
        while len(received) <= len(sent):
            chunk = data.recv(65536)
            if not chunk:
                break  # the relay closed the data connection after the peer closed
            received += chunk
        elapsed = time.monotonic() - start

        self.assertEqual(received, sent)
        # 125 kB past the burst at 50 kB/s takes 2.5 s at least; unthrottled, milliseconds.
        self.assertGreaterEqual(elapsed, 2.0)
        counters = self.only_allocation()["peer_to_client"]
        self.assertEqual(counters["bytes"], len(sent))
        self.assertEqual(counters["dropped"]["bandwidth"], 0)
        self.assertGreater(counters["paused_bandwidth"], 0)
        self.assertEqual(self.metric("hearth_tcp_relay_bandwidth_pauses_total"),
                         counters["paused_bandwidth"])
