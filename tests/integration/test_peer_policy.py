"""The peer policy against every trick a reviewer would try, through a real hearthd with
the default policy (nothing allowed): each address, in each spelling, by CreatePermission,
ChannelBind, Send and RFC 6062 Connect. Each is refused with 403 (Send: dropped), counted,
and logged once per allocation; nothing reaches a peer."""

import json
import os
import socket
import struct
import time
import unittest

import harness


# Loopback, unspecified, cloud metadata and platform addresses (AWS, GCP, Azure, Alibaba),
# the private and shared ranges, link-local, multicast, broadcast, and IPv4 hidden in IPv6
# (mapped, compatible, NAT64, 6to4).
TRICKS = [
    "127.0.0.1", "127.1.2.3", "0.0.0.0", "169.254.169.254", "168.63.129.16", "100.100.100.200",
    "169.254.1.1", "10.0.0.1",
    "172.16.0.1", "172.31.255.254", "192.168.1.1", "100.64.0.1", "224.0.0.1",
    "239.255.255.250", "255.255.255.255", "240.0.0.1",
    "::1", "::", "::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::",
    "::ffff:169.254.169.254", "::ffff:10.0.0.1", "fe80::1", "fc00::1", "fd00::1", "ff02::1",
    "fd00:ec2::254",
]


class PeerPolicyTricksTest(harness.AdminApi, harness.HearthTest):
    allow_loopback = False
    relay_extra = harness.TCP_ALLOCATIONS  # Connect is checked too

    def setUp(self):
        self.extra_config = self.admin_config()
        super().setUp()
        # A UDP socket that a relayed packet would reach if the policy failed: a service
        # of the relay's host on a port of the relayed range that no allocation holds, as
        # a co-located media server or another process's ephemeral socket would be.
        self.trap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(self.trap.close)
        for port in range(self.relay_ports[0], self.relay_ports[1] + 1):
            try:
                self.trap.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
        else:
            self.fail(f"no free port in the relayed range {self.relay_ports}")
        self.trap.settimeout(0.5)

    def client(self, protocol=17):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        relayed = client.allocate(protocol)
        return client, relayed

    def refused_count(self):
        for line in self.admin("/metrics").splitlines():
            if line.startswith("hearth_peer_policy_refusals_total"):
                return int(float(line.split()[-1]))
        self.fail("no hearth_peer_policy_refusals_total")

    def targets(self):
        """Every trick, the relay's listening address, and a port of its relayed range that
        is the host's."""
        return [(host, 5000) for host in TRICKS] + [("127.0.0.1", self.port),
                                                    self.trap.getsockname()]

    def test_create_permission_refuses_every_trick_with_403(self):
        client, _ = self.client()
        for host, port in self.targets():
            transaction_id = os.urandom(12)
            answer = client.request(harness.CREATE_PERMISSION,
                                    [(0x0012, harness.xor_peer(host, port, transaction_id))],
                                    transaction_id)
            self.assertEqual(harness.error_code(answer), 403, host)
        self.assertEqual(self.refused_count(), len(self.targets()))

    def test_channel_bind_refuses_every_trick_with_403(self):
        client, _ = self.client()
        for number, (host, port) in enumerate(self.targets()):
            transaction_id = os.urandom(12)
            answer = client.request(
                harness.CHANNEL_BIND,
                [(0x000C, struct.pack("!HH", 0x4000 + number, 0)),
                 (0x0012, harness.xor_peer(host, port, transaction_id))], transaction_id)
            self.assertEqual(harness.error_code(answer), 403, host)
        self.assertEqual(self.refused_count(), len(self.targets()))

    def test_send_to_any_trick_is_dropped_and_counted(self):
        client, _ = self.client()
        targets = self.targets()
        for host, port in targets:
            client.send_indication(host, port, b"must not arrive")
        # A request after the indications on the same stream: once it is answered, every
        # indication before it has been handled.
        transaction_id = os.urandom(12)
        client.request(harness.CREATE_PERMISSION,
                       [(0x0012, harness.xor_peer("127.0.0.1", 1, transaction_id))],
                       transaction_id)
        allocation = json.loads(self.admin("/v1/allocations"))["allocations"][0]
        self.assertEqual(allocation["client_to_peer"]["dropped"]["peer_policy"], len(targets) + 1)
        self.assertEqual(allocation["client_to_peer"]["packets"], 0)
        with self.assertRaises(socket.timeout):
            self.trap.recvfrom(64)

    def test_tcp_connect_refuses_every_trick_with_403(self):
        client, _ = self.client(protocol=6)
        for host, port in self.targets():
            transaction_id = os.urandom(12)
            answer = client.request(harness.CONNECT,
                                    [(0x0012, harness.xor_peer(host, port, transaction_id))],
                                    transaction_id)
            self.assertEqual(harness.error_code(answer), 403, host)
        self.assertEqual(self.refused_count(), len(self.targets()))

    def test_another_allocation_is_reachable_though_its_address_is_refused(self):
        # Two clients of this relay reach each other on 127.0.0.1, which the default policy
        # refuses: by Send, and by a channel. The permission that opens 127.0.0.1 for it (a
        # permission is for an address, RFC 8656 §9) opens no other port of the host: not a
        # service in the relayed range, nor the port of an allocation that has ended, which
        # the channel still names.
        first, first_relayed = self.client()
        second, second_relayed = self.client()
        first.channel_bind(0x4000, *second_relayed)  # a channel permits its peer too
        second.permit(*first_relayed)

        def received(receiver, payload, sender_relayed):
            self.assertEqual(harness.data_indication(harness.read_stun_from_stream(receiver.sock)),
                             (sender_relayed, payload))

        first.send_indication(*second_relayed, b"hairpin")
        received(second, b"hairpin", first_relayed)
        first.transmit(struct.pack("!HH", 0x4000, 8) + b"channel!")  # padded: RFC 8656 §12.5
        received(second, b"channel!", first_relayed)
        second.send_indication(*first_relayed, b"and back")  # comes on first's channel
        answer = b""
        while len(answer) < 12:  # each recv bounded by the socket's timeout
            chunk = first.sock.recv(12 - len(answer))
            self.assertTrue(chunk, "the relay closed the connection")
            answer += chunk
        self.assertEqual(answer, struct.pack("!HH", 0x4000, 8) + b"and back")

        first.send_indication(*self.trap.getsockname(), b"must not arrive")
        ended = second.request(harness.REFRESH, [(0x000D, struct.pack("!I", 0))])
        self.assertEqual(struct.unpack("!H", ended[:2])[0], 0x0104, harness.error_code(ended))
        first.send_indication(*second_relayed, b"nor this, its allocation gone")
        first.transmit(struct.pack("!HH", 0x4000, 8) + b"nor this")
        first.request(harness.REFRESH, [])  # answered: everything before it is handled
        allocation = json.loads(self.admin("/v1/allocations"))["allocations"][0]
        self.assertEqual(allocation["client_to_peer"]["dropped"]["peer_policy"], 3)
        self.assertEqual(allocation["client_to_peer"]["packets"], 2)
        with self.assertRaises(socket.timeout):
            self.trap.recvfrom(64)

    def test_refusals_are_logged_once_per_allocation(self):
        mark = self.hearthd.mark()
        first, _ = self.client()
        second, _ = self.client()
        for client in (first, second):
            for host, port in self.targets()[:5]:
                transaction_id = os.urandom(12)
                client.request(harness.CREATE_PERMISSION,
                               [(0x0012, harness.xor_peer(host, port, transaction_id))],
                               transaction_id)
        self.admin("/v1/status")  # answered after the requests above were handled...
        # ...but their log lines reach this test through hearthd's stdout and the harness's
        # reader thread, later: wait (bounded) for the two, then none more may have come.
        deadline = time.monotonic() + 5
        while True:
            logged = [line for line in self.hearthd.lines[mark:]
                      if "refused by the peer policy" in line]
            if len(logged) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(logged), 2, "\n".join(logged))


class RelaySelfTest(harness.AdminApi, harness.HearthTest):
    """The harness's own allow-list, 127.0.0.0/8, covers every address hearthd listens on:
    its TURN listeners and admin API must stay out of reach all the same, while relaying to
    any other port of loopback, and between two allocations, works."""

    relay_ports = (43000, 43999)
    relay_extra = harness.TCP_ALLOCATIONS
    with_tls = True

    def setUp(self):
        # Free for UDP as well: a UDP trap on the admin API's port number catches a Send.
        self.extra_config = self.admin_config(port_kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM))
        super().setUp()

    def client(self, protocol=17):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        relayed = client.allocate(protocol)
        return client, relayed

    def own_services(self):
        """hearthd's own ports, at its address and at others the kernel delivers here."""
        return [("127.0.0.1", self.admin_port), ("127.0.0.1", self.port),
                ("127.0.0.1", self.tls_port), ("127.0.0.2", self.admin_port),
                ("::ffff:127.0.0.1", self.admin_port), ("0.0.0.0", self.port)]

    def allocation(self):
        return json.loads(self.admin("/v1/allocations"))["allocations"][0]

    def test_the_admin_api_and_listeners_are_refused_with_403_though_allow_listed(self):
        udp, _ = self.client()
        tcp, _ = self.client(protocol=6)
        for number, (host, port) in enumerate(self.own_services()):
            for client, method, attributes in (
                    (udp, harness.CREATE_PERMISSION, []),
                    (udp, harness.CHANNEL_BIND, [(0x000C, struct.pack("!HH", 0x4000 + number, 0))]),
                    (tcp, harness.CONNECT, [])):
                transaction_id = os.urandom(12)
                answer = client.request(
                    method, attributes + [(0x0012, harness.xor_peer(host, port, transaction_id))],
                    transaction_id)
                self.assertEqual(harness.error_code(answer), 403, (method, host, port))
        self.assertEqual(self.metric("hearth_peer_policy_refusals_total"),
                         3 * len(self.own_services()))

    def test_a_send_to_the_admin_port_never_arrives_though_loopback_has_a_permission(self):
        trap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(trap.close)
        trap.bind(("127.0.0.1", self.admin_port))
        trap.settimeout(0.5)
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(10)
        client, _ = self.client()
        client.permit(*peer.getsockname())  # a permission for 127.0.0.1, every port
        client.send_indication("127.0.0.1", self.admin_port, b"must not arrive")
        client.send_indication("127.0.0.1", self.port, harness.binding_request(os.urandom(12)))
        client.send_indication(*peer.getsockname(), b"another loopback port")
        self.assertEqual(peer.recvfrom(64)[0], b"another loopback port")
        with self.assertRaises(socket.timeout):
            trap.recvfrom(64)
        client.permit(*peer.getsockname())  # answered: every indication before it is handled
        allocation = self.allocation()
        self.assertEqual(allocation["client_to_peer"]["dropped"]["peer_policy"], 2)
        self.assertEqual(allocation["client_to_peer"]["packets"], 1)
        self.assertEqual(self.metric("hearth_binding_requests_total"), 0)

    def test_two_allocations_of_this_relay_reach_each_other(self):
        # Both clients behind symmetric NATs: each one's relayed address is the other's peer.
        first, first_relayed = self.client()
        second, second_relayed = self.client()
        first.permit(*second_relayed)
        second.permit(*first_relayed)
        first.send_indication(*second_relayed, b"hairpin")
        self.assertEqual(harness.data_indication(harness.read_stun_from_stream(second.sock)),
                         (first_relayed, b"hairpin"))


if __name__ == "__main__":
    unittest.main()
