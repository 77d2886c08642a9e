"""RFC 3550 statistics through a real hearthd: an RTP stream with known gaps and
reorderings relayed over a channel, and the loss and jitter read back from the admin API."""

import json
import os
import socket
import struct
import time
import unittest
import urllib.request

import harness

TOKEN = "rtp-test-admin-token-0123456789ab"
PACKETS = 150           # 3 s at 20 ms: one second to learn the clock, then jitter settles
LOST = {7, 8, 40, 99}   # never sent
SWAPPED = [(20, 21), (60, 62)]  # sent in the other order


class RtpStatisticsTest(harness.HearthTest):
    relay_ports = (49000, 49499)

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{TOKEN}"; }};'
        super().setUp()

    def allocation(self):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/v1/allocations",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            (allocation,) = json.loads(response.read())["allocations"]
            return allocation

    def send_stream(self, client, first_sequence, jitter_ticks):
        """RTP over ChannelData every 20 ms; timestamps 960 apart (48 kHz), each one off by
        +/- jitter_ticks in turn, so the interarrival jitter settles near 2 x jitter_ticks."""
        order = [i for i in range(PACKETS) if i not in LOST]
        for a, b in SWAPPED:
            x, y = order.index(a), order.index(b)
            order[x], order[y] = order[y], order[x]
        for index in order:
            sequence = (first_sequence + index) & 0xFFFF
            timestamp = (index * 960 + (jitter_ticks if index % 2 else -jitter_ticks)) & 0xFFFFFFFF
            rtp = struct.pack("!BBHII", 0x80, 111, sequence, timestamp, 0x5EED) + bytes(100)
            client.transmit(struct.pack("!HH", 0x4000, len(rtp)) + rtp)
            time.sleep(0.02)  # the stream's pace, not a synchronisation

    def run_stream(self, first_sequence):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sink.close)
        sink.bind(("127.0.0.1", 0))
        bound = client.request(harness.CHANNEL_BIND,
                               [(0x000C, struct.pack("!HH", 0x4000, 0)),
                                (0x0012, harness.xor_peer(*sink.getsockname()))])
        self.assertEqual(struct.unpack("!H", bound[0:2])[0], 0x0109)
        self.send_stream(client, first_sequence, jitter_ticks=480)
        sink.settimeout(5)
        for _ in range(PACKETS - len(LOST)):  # all relayed: the counters are complete
            sink.recv(2048)
        return self.allocation()["client_to_peer"]

    def test_loss_and_jitter_of_a_stream_starting_at_0(self):
        leg = self.run_stream(first_sequence=0)
        self.assertEqual(leg["rtp"]["expected"], PACKETS)
        self.assertEqual(leg["rtp"]["received"], PACKETS - len(LOST))
        self.assertEqual(leg["rtp"]["lost"], len(LOST))
        # +/- 10 ms off a steady pace: 20 ms of transit difference between neighbours.
        self.assertGreater(leg["rtp"]["jitter_ms"], 10)
        self.assertLess(leg["rtp"]["jitter_ms"], 30)

    def test_loss_of_a_stream_that_wraps_at_once(self):
        leg = self.run_stream(first_sequence=65535)
        self.assertEqual(leg["rtp"]["expected"], PACKETS)
        self.assertEqual(leg["rtp"]["lost"], len(LOST))


if __name__ == "__main__":
    unittest.main()
