"""TCP and TLS client connections: framing across reads, and the bounds that keep a
hostile or slow client from growing hearthd or stalling others (RFC 8656 §3.1)."""

import os
import socket
import ssl
import struct
import time
import unittest

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
        kept = [self.tcp() for _ in range(6)]
        refused = self.tcp()
        self.assertTrue(closed_by_server(refused, 10))
        for sock in kept:  # the first six still work
            request = harness.binding_request(os.urandom(12))
            sock.sendall(request)
            self.assertEqual(harness.read_stun_from_stream(sock)[8:20], request[8:20])

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


class BanTest(harness.HearthTest):
    relay_ports = (49000, 49499)
    extra_config = "limits = { auth_failures_before_ban = 3; auth_ban = 60; };"

    def test_a_source_failing_authentication_is_banned_and_logged(self):
        for _ in range(3):
            client = harness.StreamTurnClient(self.port, secret="a-wrong-secret-0123456789")
            self.addCleanup(client.close)
            with self.assertRaises(AssertionError):
                client.allocate()
        self.hearthd.wait_for_line("banned for 60 s after repeated authentication failures")
        # Bans hold on every worker: a new TCP connection from here meets it, and so do
        # UDP Bindings from several source ports (spread over the workers by SO_REUSEPORT).
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(sock.close)
        sock.settimeout(1)
        sock.sendall(harness.binding_request(os.urandom(12)))
        with self.assertRaises(socket.timeout):  # ignored while banned
            sock.recv(2048)
        for _ in range(4):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(udp.close)
            udp.settimeout(0.5)
            udp.sendto(harness.binding_request(os.urandom(12)), ("127.0.0.1", self.port))
            with self.assertRaises(socket.timeout):
                udp.recvfrom(2048)


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
