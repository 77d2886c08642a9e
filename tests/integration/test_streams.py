"""TCP and TLS client connections: framing across reads, and the bounds that keep a
hostile or slow client from growing hearthd or stalling others (RFC 8656 §3.1)."""

import os
import socket
import ssl
import struct
import time
import unittest
import urllib.request

import harness

LIMITS = """
limits = { tls_handshake_timeout = 1; max_connections_per_source = 6;
           stream_output_buffer_bytes = 65536; };
"""


def binding_answered_over_udp(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    try:
        sock.sendto(harness.binding_request(os.urandom(12)), ("127.0.0.1", port))
        return struct.unpack("!H", sock.recvfrom(2048)[0][0:2])[0] == 0x0101
    finally:
        sock.close()


def closed_by_server(sock, timeout):
    """True when the server closes `sock` within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class StreamTest(harness.HearthTest):
    with_tls = True
    relay_ports = (44000, 44999)
    extra_config = LIMITS

    def tcp(self, port=None):
        sock = socket.create_connection(("127.0.0.1", port or self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.addCleanup(sock.close)
        return sock

    def test_a_message_split_across_reads_is_reassembled(self):
        sock = self.tcp()
        request = harness.binding_request(os.urandom(12))
        for byte in request:
            sock.sendall(bytes([byte]))
        response = harness.read_stun_from_stream(sock)
        self.assertEqual(struct.unpack("!H", response[0:2])[0], 0x0101)
        self.assertEqual(response[8:20], request[8:20])

    def test_messages_coalesced_in_one_read_are_each_answered(self):
        sock = self.tcp()
        requests = [harness.binding_request(os.urandom(12)) for _ in range(3)]
        sock.sendall(b"".join(requests))
        for request in requests:
            self.assertEqual(harness.read_stun_from_stream(sock)[8:20], request[8:20])

    def test_a_stream_that_is_not_stun_is_closed(self):
        sock = self.tcp()
        # First bits 10: neither STUN (00) nor ChannelData (01), RFC 7983.
        sock.sendall(b"\x80\x00\x00\x04junk")
        self.assertTrue(closed_by_server(sock, 10))

    def test_unfinished_tls_handshakes_are_closed_and_others_still_served(self):
        idle = [self.tcp(self.tls_port) for _ in range(5)]
        self.assertTrue(binding_answered_over_udp(self.port))
        for sock in idle:  # tls_handshake_timeout = 1 s
            self.assertTrue(closed_by_server(sock, 10))

    def test_a_tls_handshake_sent_a_byte_at_a_time_still_meets_its_deadline(self):
        sock = self.tcp(self.tls_port)
        # A TLS record header announcing a 512-byte ClientHello, then its body a byte at
        # a time, each well inside the 1 s deadline: the whole handshake must end anyway.
        dribble = b"\x16\x03\x01\x02\x00" + b"\x01" * 512
        for byte in range(24):  # at most 24 x 0.25 s
            try:
                sock.sendall(dribble[byte:byte + 1])
            except (BrokenPipeError, ConnectionResetError):
                return
            if closed_by_server(sock, 0.25):
                self.assertGreaterEqual(byte, 3)  # not at once: it was the deadline
                return
        self.fail("a handshake that never finishes held its connection past the deadline")

    def tls_connection(self, context, session=None):
        """A TLS connection to hearthd whose first request has been answered: a TLS 1.3
        server sends its session tickets after the handshake, so any have arrived."""
        sock = context.wrap_socket(self.tcp(self.tls_port), server_hostname="localhost",
                                   session=session)
        self.addCleanup(sock.close)
        request = harness.binding_request(os.urandom(12))
        sock.sendall(request)
        self.assertEqual(harness.read_stun_from_stream(sock)[8:20], request[8:20])
        return sock

    def test_no_tls_session_is_resumed_neither_1_2_nor_1_3(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.minimum_version = context.maximum_version = version
            first = self.tls_connection(context)
            self.assertEqual(first.version(), version.name.replace("_", "."))
            session = first.session
            if session is not None:
                self.assertFalse(session.has_ticket, version)
            second = self.tls_connection(context, session)
            self.assertFalse(second.session_reused, version)

    def test_connections_per_source_address_are_bounded(self):
        # Six per address (max_connections_per_source), three of them without an allocation
        # (UnauthenticatedShareTest): six that made their allocations leave no room.
        kept = []
        for _ in range(6):
            client = harness.StreamTurnClient(self.port)
            self.addCleanup(client.close)
            client.allocate()
            kept.append(client)
        refused = self.tcp()
        self.assertTrue(closed_by_server(refused, 10))
        for client in kept:  # the first six still work
            answer = client.request(harness.REFRESH, [(0x000D, struct.pack("!I", 600))])
            self.assertEqual(struct.unpack("!H", answer[0:2])[0], 0x0104)

    def test_a_client_that_never_reads_cannot_grow_hearthd(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        relayed = client.allocate()
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        client.permit(*peer.getsockname())
        before = harness.rss_kib(self.hearthd.process.pid)
        payload = b"x" * 1000
        for _ in range(50000):  # 50 MB at a client that reads nothing
            peer.sendto(payload, relayed)
        self.assertTrue(binding_answered_over_udp(self.port))
        grown_mib = (harness.rss_kib(self.hearthd.process.pid) - before) / 1024
        self.assertLess(grown_mib, 16, "hearthd buffered a slow reader's data")


UNAUTHENTICATED_TOKEN = "unauthenticated-admin-token-0123"


class UnauthenticatedConnectionTest(harness.HearthTest):
    """Issue 17, point 3: connections that make no allocation cannot fill the connection
    table, hold buffers, or keep participants out."""

    relay_ports = (43000, 43499)
    limits = ""

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = (
            f"limits = {{ {self.limits} }};\n"
            f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{UNAUTHENTICATED_TOKEN}"; }};')
        super().setUp()

    def metric(self, name):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/metrics",
                                         headers={"Authorization": f"Bearer {UNAUTHENTICATED_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " "):
                    return int(line.split()[1])
        return 0

    def tcp_from(self, source="127.0.0.1"):
        """A TCP connection to hearthd from `source`, any address of 127/8."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10,
                                        source_address=(source, 0))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.addCleanup(sock.close)
        return sock

    def binding_answered(self, sock):
        request = harness.binding_request(os.urandom(12))
        try:
            sock.sendall(request)
            return harness.read_stun_from_stream(sock)[8:20] == request[8:20]
        except OSError:  # closed, reset or timed out
            return False


class DeadlineTest(UnauthenticatedConnectionTest):
    limits = "unauthenticated_connection_timeout = 2;"

    def test_a_connection_without_an_allocation_is_closed_at_its_deadline_bindings_or_not(self):
        idle = self.tcp_from()
        busy = self.tcp_from()
        opened = time.monotonic()
        closed_after = None
        for _ in range(20):  # a Binding every half second, at most ten seconds
            if not self.binding_answered(busy) or closed_by_server(busy, 0.5):
                closed_after = time.monotonic() - opened
                break
        self.assertIsNotNone(closed_after, "Bindings kept a connection without allocation open")
        self.assertGreaterEqual(closed_after, 1.5)  # the deadline, not at once
        self.assertLess(closed_after, 4.0)          # a deadline, not an idle timer
        self.assertTrue(closed_by_server(idle, 5))
        self.assertEqual(
            self.metric('hearth_connections_closed_total{reason="no_allocation_in_time"}'), 2)

    def test_a_connection_that_allocated_outlives_the_deadline(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        self.assertFalse(closed_by_server(client.sock, 3))  # past the 2 s deadline
        answer = client.request(harness.REFRESH, [(0x000D, struct.pack("!I", 600))])
        self.assertEqual(struct.unpack("!H", answer[0:2])[0], 0x0104)

    def test_channel_data_from_a_connection_without_allocation_is_refused(self):
        sock = self.tcp_from()
        # The header of a 65 532-byte ChannelData message, then a little of it: no
        # unauthenticated client has a channel, so it is refused at the header rather than
        # buffered for the deadline.
        sock.sendall(b"\x40\x00\xff\xfc" + b"x" * 1000)
        self.assertTrue(closed_by_server(sock, 1.5))
        self.assertEqual(
            self.metric('hearth_connections_closed_total{reason="unauthenticated_frame"}'), 1)


class UnauthenticatedShareTest(UnauthenticatedConnectionTest):
    # 24 connections on the node, 12 of them without an allocation: 6 on each of the two
    # workers. 8 per source address, 4 of them without an allocation.
    limits = ("max_connections = 24; max_connections_per_source = 8; "
              "unauthenticated_connections_percent = 50;")

    def test_a_stranger_on_a_participants_address_cannot_keep_it_out(self):
        # The stranger's connections past its address's 4 take the place of its oldest,
        # and so does the participant's.
        strangers = [self.tcp_from() for _ in range(8)]
        participant = harness.StreamTurnClient(self.port)
        self.addCleanup(participant.close)
        participant.allocate()
        for sock in strangers[:5]:
            self.assertTrue(closed_by_server(sock, 5))
        for sock in strangers[5:]:
            self.assertTrue(self.binding_answered(sock))
        # Allocated, the participant no longer counts against the unauthenticated share.
        second = harness.StreamTurnClient(self.port, user="bob")
        self.addCleanup(second.close)
        second.allocate()
        self.assertTrue(all(self.binding_answered(sock) for sock in strangers[5:]))
        self.assertEqual(self.metric(
            'hearth_connections_closed_total{reason="evicted_unauthenticated"}'), 5)

    def test_strangers_filling_the_node_cannot_keep_participants_out(self):
        # Strangers from six addresses, spread over both workers, fill the node.
        strangers = [self.tcp_from(f"127.0.0.{2 + i % 6}") for i in range(24)]
        for user in ("alice", "bob", "alice"):
            participant = harness.StreamTurnClient(self.port, user=user)
            self.addCleanup(participant.close)
            participant.allocate()
        open_strangers = [sock for sock in strangers if self.binding_answered(sock)]
        self.assertLessEqual(len(open_strangers), 12)
        self.assertEqual(self.metric("hearth_connections_open"), 3 + len(open_strangers))


BAN_TOKEN = "ban-test-admin-token-0123456789"
UDP = [(0x0019, bytes([17, 0, 0, 0]))]  # REQUESTED-TRANSPORT


class BanTest(harness.HearthTest):
    """Issue 17, point 1: behind one NAT address (here 127.0.0.1) a stranger's failures ban
    what failed, never a participant's valid credential."""

    relay_ports = (49000, 49499)

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = (
            "limits = { auth_failures_before_ban = 3; auth_ban = 60; };\n"
            f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{BAN_TOKEN}"; }};')
        super().setUp()

    def metric(self, name):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/metrics",
                                         headers={"Authorization": f"Bearer {BAN_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " "):
                    return int(line.split()[1])
        return 0

    def stranger_until_banned(self):
        """A stranger with no credential: a real nonce (any Allocate's 401 gives one), a
        username of its own and wrong passwords, until the ban is logged."""
        stranger = harness.StreamTurnClient(self.port, user="mallory",
                                            secret="a-wrong-secret-0123456789")
        self.addCleanup(stranger.close)
        self.assertEqual(harness.error_code(stranger.allocate_answer()), 401)  # the 1st failure
        for _ in range(2):
            self.assertEqual(harness.error_code(stranger.request(harness.ALLOCATE, UDP)), 401)
        self.hearthd.wait_for_line("banned for 60 s after repeated authentication failures")
        self.assertEqual(self.metric("hearth_source_bans_total"), 1)
        return stranger

    def stranger_over_udp(self, stranger):
        """The stranger again, over UDP from a new source port: the kernel spreads those
        over the workers, and the ban holds on every one."""
        again = harness.DatagramTurnClient(self.port, user="mallory")
        self.addCleanup(again.close)
        again.sock.settimeout(0.5)
        again.username, again.key, again.nonce = stranger.username, stranger.key, stranger.nonce
        return again

    def binding_answered(self, client):
        request = harness.binding_request(os.urandom(12))
        client.transmit(request)
        if isinstance(client, harness.StreamTurnClient):
            answer = harness.read_stun_from_stream(client.sock)
        else:
            answer = client.sock.recv(2048)
        return struct.unpack("!H", answer[0:2])[0] == 0x0101 and answer[8:20] == request[8:20]

    def test_a_stranger_on_a_shared_address_cannot_lock_out_a_participant(self):
        stranger = self.stranger_until_banned()
        # A participant on the same address, over TCP and over UDP: Binding answered,
        # Allocate granted.
        for transport in (harness.StreamTurnClient, harness.DatagramTurnClient):
            participant = transport(self.port, user="alice")
            self.addCleanup(participant.close)
            self.assertTrue(self.binding_answered(participant), transport.__name__)
            participant.allocate()
        # The stranger stays refused, unanswered, on its connection and from any UDP port.
        stranger.sock.settimeout(1)
        with self.assertRaises(socket.timeout):
            stranger.request(harness.ALLOCATE, UDP)
        for _ in range(4):
            with self.assertRaises(socket.timeout):
                self.stranger_over_udp(stranger).request(harness.ALLOCATE, UDP)
        self.assertGreaterEqual(self.metric('hearth_dropped_packets_total{reason="banned_source"}'), 5)


class TlsRecordTest(harness.HearthTest):
    """Each message to a TLS client leaves in a TLS record of its own: clients that read
    a record at a time as one message (turnutils_uclient) lose none of a burst."""

    with_tls = True
    relay_ports = (44000, 44999)

    def test_a_burst_from_a_peer_reaches_a_tls_client_one_record_per_message(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10)
        tls = context.wrap_socket(raw, server_hostname="localhost")
        client = harness.TurnClient(tls)
        client.transmit = tls.sendall
        client.exchange = lambda request: (tls.sendall(request),
                                           harness.read_stun_from_stream(tls))[1]
        self.addCleanup(client.close)
        relayed = client.allocate()
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        client.permit(*peer.getsockname())
        burst = 20
        for index in range(burst):  # faster than the relay wakes: one recvmmsg takes several
            peer.sendto(struct.pack("!I", index) + bytes(156), relayed)
        for index in range(burst):
            record = tls.recv(65536)  # what one TLS record carried
            self.assertEqual(struct.unpack("!H", record[0:2])[0], 0x0017)  # a Data indication
            self.assertEqual(len(record), 20 + struct.unpack("!H", record[2:4])[0],
                             f"record {index} carries more than one message")


class ReloadTest(harness.HearthTest):
    with_tls = True
    relay_ports = (45000, 45999)

    def peer_certificate(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert(binary_form=True)

    def test_tls_offers_only_modern_versions_and_accepts_alpn_stun_turn(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["stun.turn"])  # RFC 7443
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                self.assertEqual(tls.selected_alpn_protocol(), "stun.turn")
                self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                old.wrap_socket(raw, server_hostname="localhost")

    def test_sighup_reloads_the_certificate_and_refuses_a_broken_one(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        held = context.wrap_socket(socket.create_connection(("127.0.0.1", self.tls_port),
                                                            timeout=10), server_hostname="localhost")
        self.addCleanup(held.close)
        first = self.peer_certificate()

        new_certificate, new_key = harness.make_certificate(self.directory.name, "renewed")
        os.replace(new_certificate, self.certificate)
        os.replace(new_key, self.key)
        self.hearthd.process.send_signal(harness.signal.SIGHUP)
        self.hearthd.wait_for_line("TLS certificate reloaded")
        second = self.peer_certificate()
        self.assertNotEqual(first, second)

        with open(self.certificate, "w") as broken:
            broken.write("not a certificate\n")
        self.hearthd.process.send_signal(harness.signal.SIGHUP)
        self.hearthd.wait_for_line("new TLS certificate refused, keeping the old one")
        self.assertEqual(self.peer_certificate(), second)

        # The connection opened before both reloads is still served.
        request = harness.binding_request(os.urandom(12))
        held.sendall(request)
        self.assertEqual(harness.read_stun_from_stream(held)[8:20], request[8:20])


if __name__ == "__main__":
    unittest.main()
