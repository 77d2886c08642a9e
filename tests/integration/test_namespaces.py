"""The namespace harness (namespaces.py) that the XDP fast path's tests stand on.

Without hearthd nothing the client sends reaches the peer (the relay namespace forwards
nothing); with hearthd in the relay namespace coturn's uclient and a Python client relay
through it to a peer namespace with nothing lost, over IPv4 and IPv6. A fast-path test
built on this topology therefore measures what hearthd (or its XDP program) relayed.
"""

import re
import shutil
import socket
import struct
import time
import unittest

import harness
import namespaces

UCLIENT = shutil.which("turnutils_uclient")
MESSAGES = 100
CLIENTS = 2
# uclient retries a refused Allocate many times; no ban or throttle may leave it waiting.
LIMITS = ("limits = { auth_failures_before_ban = 1000; auth_failures_before_throttle = 1000; "
          "allocate_requests_per_second = 0; };")


def in_address_errors(topology, family):
    """The relay namespace's count of datagrams dropped for a destination it neither has
    nor forwards to (Ip InAddrErrors, Ip6InAddrErrors: the kernel's ip_error and
    ip6_forward with forwarding off)."""
    if family == socket.AF_INET:
        lines = topology.call(topology.relay, ["cat", "/proc/net/snmp"], 30).stdout.splitlines()
        names, values = [line.split() for line in lines if line.startswith("Ip: ")][:2]
        return int(values[names.index("InAddrErrors")])
    for line in topology.call(topology.relay, ["cat", "/proc/net/snmp6"], 30).stdout.splitlines():
        name, value = line.split()
        if name == "Ip6InAddrErrors":
            return int(value)
    raise AssertionError("no Ip6InAddrErrors")


class TopologyTest(unittest.TestCase):
    def setUp(self):
        self.topology = namespaces.RelayTopology.for_test(self)

    def test_the_ends_send_full_checksums_and_the_relay_does_not_forward(self):
        for end in (self.topology.client_side, self.topology.peer_side):
            features = self.topology.call(end.namespace, ["ethtool", "-k", end.name]).stdout
            self.assertIn("tx-checksumming: off", features)
        self.assertEqual(self.topology.sysctl(self.topology.relay, "net.ipv4.ip_forward"), "0")
        self.assertEqual(
            self.topology.sysctl(self.topology.relay, "net.ipv6.conf.all.forwarding"), "0")
        indexes = [end.index for end in self.topology.interfaces()]
        self.assertTrue(all(index > 1 for index in indexes), indexes)

    def test_without_hearthd_nothing_reaches_the_peer(self):
        for family, address in ((socket.AF_INET, "ipv4"), (socket.AF_INET6, "ipv6")):
            with self.subTest(address):
                self.nothing_forwarded(family, address)

    def nothing_forwarded(self, family, address):
        topology = self.topology
        peer_host = getattr(topology.peer_side, address)
        relay_host = getattr(topology.relay_peer_side, address)
        with topology.socket(topology.peer, family) as peer, \
                topology.socket(topology.relay, family) as relay, \
                topology.socket(topology.client, family) as client:
            peer.bind((peer_host, 0))
            relay.bind((relay_host, 0))
            peer.settimeout(5)
            relay.settimeout(5)
            # The client reaches the relay's own addresses, on either side.
            client.sendto(b"to the relay", relay.getsockname()[:2])
            self.assertEqual(relay.recvfrom(64)[0], b"to the relay")
            # A datagram for the peer: wait until the relay has counted it dropped.
            dropped_before = in_address_errors(topology, family)
            client.sendto(b"not forwarded", peer.getsockname()[:2])
            deadline = time.monotonic() + 10
            while in_address_errors(topology, family) == dropped_before:
                self.assertLess(time.monotonic(), deadline, "the relay never dropped it")
                time.sleep(0.02)  # polling a kernel counter, bounded above
            # The control that lets this test fail: with forwarding on, the same path
            # carries the next datagram, and the dropped one is not ahead of it.
            key = ("net.ipv4.ip_forward" if family == socket.AF_INET
                   else "net.ipv6.conf.all.forwarding")
            topology.sysctl(topology.relay, key, 1)
            try:
                client.sendto(b"forwarded", peer.getsockname()[:2])
                data, source = peer.recvfrom(64)
                self.assertEqual(data, b"forwarded")
                self.assertEqual(source[0], getattr(topology.client_side, address))
            finally:
                topology.sysctl(topology.relay, key, 0)


class UclientAcrossNamespacesTest(unittest.TestCase):
    """hearthd in the relay namespace, turnutils_peer in the peer's, uclient in the
    client's: every echoed packet came back through hearthd."""

    def setUp(self):
        if UCLIENT is None:
            self.fail("turnutils_uclient is missing: run ./test.sh (it installs coturn)")
        self.topology = namespaces.RelayTopology.for_test(self)
        self.hearthd = self.topology.start_hearthd(
            self, self.topology.relay, self.topology.hearthd_config(ipv6=True, extra=LIMITS))
        self.peer_port = 3480
        for host in (self.topology.peer_side.ipv4, self.topology.peer_side.ipv6):
            self.topology.start_peer(self, self.topology.peer, host, self.peer_port)

    def uclient(self, server, peer, *options):
        username, password = harness.mint("s1", "alice")
        argv = [UCLIENT, "-p", namespaces.TURN_PORT, "-u", username, "-w", password,
                "-e", peer, "-r", self.peer_port, "-n", MESSAGES, "-m", CLIENTS, "-l", "160",
                "-z", "5", "-c", *options, server]
        result = self.topology.call(self.topology.client, argv, timeout=60)
        return result.stdout + result.stderr

    def assert_no_loss(self, output):
        totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output)
        lost = re.findall(r"Total lost packets (\d+)", output)
        self.assertTrue(totals and lost, output)
        self.assertEqual(int(totals[-1][0]), MESSAGES * CLIENTS, output)
        self.assertEqual(int(totals[-1][1]), MESSAGES * CLIENTS, output)
        self.assertEqual(int(lost[-1]), 0, output)

    def test_ipv4_over_channels(self):
        self.assert_no_loss(self.uclient(self.topology.relay_client_side.ipv4,
                                         self.topology.peer_side.ipv4))
        self.hearthd.wait_for_line(f"relayed={self.topology.relay_peer_side.ipv4}:")

    def test_ipv4_over_send_indications(self):
        self.assert_no_loss(self.uclient(self.topology.relay_client_side.ipv4,
                                         self.topology.peer_side.ipv4, "-s"))

    def test_ipv6_over_channels(self):
        """IPv6 from the client to hearthd and from the relayed address to the peer."""
        self.assert_no_loss(self.uclient(self.topology.relay_client_side.ipv6,
                                         self.topology.peer_side.ipv6, "-x"))
        self.hearthd.wait_for_line(f"relayed=[{self.topology.relay_peer_side.ipv6}]:")


class ChannelDataAcrossNamespacesTest(unittest.TestCase):
    """A Python client binds a channel and sends ChannelData; the peer sees it come from
    the relayed address and answers; the client gets the answer as ChannelData."""

    def setUp(self):
        self.topology = namespaces.RelayTopology.for_test(self)
        self.topology.start_hearthd(self, self.topology.relay,
                                    self.topology.hearthd_config(ipv6=True))

    def relay_channel_data(self, address, family):
        topology = self.topology
        server = getattr(topology.relay_client_side, address)
        peer_host = getattr(topology.peer_side, address)
        client = harness.DatagramTurnClient(namespaces.TURN_PORT, server,
                                            topology.socket(topology.client, family))
        self.addCleanup(client.close)
        peer = topology.socket(topology.peer, family)
        self.addCleanup(peer.close)
        peer.bind((peer_host, 0))
        peer.settimeout(5)
        relayed = client.allocate(family=2 if family == socket.AF_INET6 else None)
        self.assertEqual(relayed[0], getattr(topology.relay_peer_side, address))
        client.channel_bind(0x4000, peer_host, peer.getsockname()[1])
        for number in range(20):
            payload = struct.pack("!I", number) + b"m" * 156
            client.transmit(struct.pack("!HH", 0x4000, len(payload)) + payload)
            data, source = peer.recvfrom(2048)
            self.assertEqual((data, source[:2]), (payload, relayed))
            peer.sendto(payload[::-1], source)
            self.assertEqual(client.sock.recv(2048),
                             struct.pack("!HH", 0x4000, len(payload)) + payload[::-1])

    def test_ipv4(self):
        self.relay_channel_data("ipv4", socket.AF_INET)

    def test_ipv6(self):
        self.relay_channel_data("ipv6", socket.AF_INET6)


class LoopbackNamespaceTest(unittest.TestCase):
    """hearthd on the loopback of a namespace of its own, on the standard port."""

    def test_channel_data_on_a_private_loopback(self):
        loopback = namespaces.LoopbackNamespace.for_test(self)
        loopback.start_hearthd(self, loopback.namespace, loopback.config())
        client = harness.DatagramTurnClient(namespaces.TURN_PORT, "127.0.0.1",
                                            loopback.socket(loopback.namespace))
        self.addCleanup(client.close)
        peer = loopback.socket(loopback.namespace)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(5)
        relayed = client.allocate()
        client.channel_bind(0x4001, "127.0.0.1", peer.getsockname()[1])
        client.transmit(struct.pack("!HH", 0x4001, 4) + b"ping")
        data, source = peer.recvfrom(64)
        self.assertEqual((data, source), (b"ping", relayed))


if __name__ == "__main__":
    unittest.main()
