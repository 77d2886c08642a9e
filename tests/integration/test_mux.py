"""One port for everything a browser may try (listen.mux): TURN over TCP, TURN over TLS,
and TLS for another service of the host (mux.upstreams), told apart by the first bytes.

The upstream is a real TLS web server in this process, with a certificate of its own: a
client that names it must get its certificate, proof that hearthd passed the connection
on unterminated. Connections that say nothing, or something else, are closed and counted.
"""

import hashlib
import http.server
import os
import socket
import ssl
import tempfile
import threading
import time
import unittest

import harness
from test_proxy_protocol import CLIENT, closed_by_server, mapped_address, v2_header

UPSTREAM_NAME = "app.test"
BIG_BODY = os.urandom(3 * 1024 * 1024)  # past every buffer bound on the way


class UpstreamHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = BIG_BODY if self.path == "/big" else b"the web app answers"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        received = self.rfile.read(int(self.headers["Content-Length"]))
        body = hashlib.sha256(received).hexdigest().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


class Upstream:
    """A TLS web server on loopback, answering with its own certificate."""

    def __init__(self, test, directory):
        self.certificate, key = harness.make_certificate(directory, "upstream", UPSTREAM_NAME)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, key)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), UpstreamHandler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        test.addCleanup(thread.join, 10)
        test.addCleanup(self.server.shutdown)
        test.addCleanup(self.server.server_close)


class MuxCase(harness.AdminApi, harness.HearthTest):
    with_tls = True
    relay_ports = (46000, 46499)
    upstream_timeout = 2
    proxy_protocol = ""
    limits_extra = ""

    def setUp(self):
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.upstream = Upstream(self, scratch.name)
        self.mux_port = harness.free_port((socket.SOCK_STREAM,))
        self.closed_port = harness.free_port((socket.SOCK_STREAM,))
        self.listen_extra = f'mux = [ "127.0.0.1:{self.mux_port}" ]; {self.proxy_protocol}'
        self.extra_config = (
            self.admin_config() +
            f"mux = {{ upstreams = ( {self.upstreams_text()} ); }};\n"
            f"limits = {{ tls_handshake_timeout = {self.upstream_timeout}; {self.limits_extra} }};")
        super().setUp()

    def upstreams_text(self, name=UPSTREAM_NAME):
        return (f'{{ sni = "{name}"; address = "127.0.0.1:{self.upstream.port}"; }}, '
                f'{{ sni = "down.test"; address = "127.0.0.1:{self.closed_port}"; }}')

    def sample(self, family, label):
        for line in self.admin("/metrics").splitlines():
            if line.startswith(f"{family}{{{label}}} "):
                return int(float(line.split()[-1]))
        self.fail(f"no {family}{{{label}}} in /metrics")

    def wait_sample(self, family, label, count):
        """Counters are read from the workers: wait, bounded, for the one expected."""
        deadline = time.monotonic() + 10
        while self.sample(family, label) != count and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a counter, not synchronising on time
        self.assertEqual(self.sample(family, label), count, f"{family}{{{label}}}")

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.mux_port), timeout=10)
        self.addCleanup(sock.close)
        return sock

    def tls_to_upstream(self, sock, name=UPSTREAM_NAME):
        """TLS that trusts only the upstream's certificate, and checks its name."""
        context = ssl.create_default_context(cafile=self.upstream.certificate)
        tls = context.wrap_socket(sock, server_hostname=name)
        self.addCleanup(tls.close)
        return tls

    def finish_handshake(self, sock, tls, incoming, outgoing):
        """A memory-BIO TLS client whose ClientHello was sent some way of the test's own:
        the rest of its handshake over `sock`."""
        while True:
            data = sock.recv(65536)
            self.assertTrue(data, "closed during the handshake")
            incoming.write(data)
            try:
                tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())

    def https(self, tls, request):
        tls.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = tls.recv(65536)
            self.assertTrue(chunk, "closed before the answer's head")
            answer += chunk
        head, body = answer.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        while len(body) < length:
            chunk = tls.recv(65536)
            self.assertTrue(chunk, "closed before the answer's body")
            body += chunk
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        return body


class MuxTest(MuxCase):

    def test_turn_over_tcp_is_served_on_the_mux_port(self):
        client = harness.StreamTurnClient(self.mux_port)
        self.addCleanup(client.close)
        relayed = client.allocate()
        self.assertEqual(relayed[0], "127.0.0.1")
        self.wait_sample("hearth_mux_connections_total", 'kind="turn_tcp"', 1)
        allocations = self.admin("/v1/allocations")
        self.assertIn('"transport":"tcp"', allocations)

    def test_tls_without_a_name_is_turn_over_tls(self):
        context = ssl.create_default_context(cafile=self.certificate)
        context.check_hostname = False  # no SNI at all, as Firefox sends for an IP
        tls = context.wrap_socket(self.connect(), server_hostname=None)
        self.addCleanup(tls.close)
        request = harness.binding_request(os.urandom(12))
        tls.sendall(request)
        response = harness.read_stun_from_stream(tls)
        self.assertEqual(response[8:20], request[8:20])
        self.wait_sample("hearth_mux_connections_total", 'kind="turn_tls"', 1)

    def test_tls_naming_another_host_is_turn_over_tls(self):
        context = ssl.create_default_context(cafile=self.certificate)
        tls = context.wrap_socket(self.connect(), server_hostname="localhost")
        self.addCleanup(tls.close)
        client = harness.TurnClient(tls)
        client.transmit = tls.sendall
        client.exchange = lambda request: (tls.sendall(request),
                                           harness.read_stun_from_stream(tls))[1]
        client.allocate()
        self.wait_sample("hearth_mux_connections_total", 'kind="turn_tls"', 1)
        self.assertIn('"transport":"tls"', self.admin("/v1/allocations"))

    def test_tls_naming_an_upstream_reaches_it_unterminated(self):
        tls = self.tls_to_upstream(self.connect())
        body = self.https(tls, b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(body, b"the web app answers")
        self.wait_sample("hearth_mux_connections_total", 'kind="upstream"', 1)
        self.assertEqual(self.sample("hearth_mux_connections_total", 'kind="turn_tls"'), 0)

    def test_the_upstream_name_is_matched_without_regard_to_case(self):
        tls = self.tls_to_upstream(self.connect(), name="APP.Test")
        self.assertEqual(self.https(tls, b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n"),
                         b"the web app answers")

    def test_megabytes_pass_both_ways_and_the_connection_is_released(self):
        tls = self.tls_to_upstream(self.connect())
        self.assertEqual(self.https(tls, b"GET /big HTTP/1.1\r\nHost: app.test\r\n\r\n"),
                         BIG_BODY)
        posted = self.https(tls, b"POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: "
                            + str(len(BIG_BODY)).encode() + b"\r\n\r\n" + BIG_BODY)
        self.assertEqual(posted, hashlib.sha256(BIG_BODY).hexdigest().encode())
        self.assertEqual(self.metric("hearth_mux_upstream_connections"), 1)
        tls.close()
        deadline = time.monotonic() + 10
        while self.metric("hearth_mux_upstream_connections") and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a gauge
        self.assertEqual(self.metric("hearth_mux_upstream_connections"), 0)

    def test_an_unreachable_upstream_closes_the_connection_and_is_counted(self):
        sock = self.connect()
        context = ssl.create_default_context()
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            context.wrap_socket(sock, server_hostname="down.test")
        self.wait_sample("hearth_mux_upstream_failures_total", 'reason="unreachable"', 1)

    def test_a_connection_that_says_nothing_is_closed_and_counted(self):
        sock = self.connect()
        self.assertTrue(closed_by_server(sock, timeout=self.upstream_timeout + 8))
        self.wait_sample("hearth_mux_refused_total", 'reason="timeout"', 1)

    def test_http_in_clear_is_closed_and_counted(self):
        sock = self.connect()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertTrue(closed_by_server(sock))
        self.wait_sample("hearth_mux_refused_total", 'reason="unknown"', 1)

    def test_a_broken_client_hello_is_closed_and_counted(self):
        sock = self.connect()
        # A handshake record whose message is a ServerHello.
        sock.sendall(bytes([22, 3, 1, 0, 4, 2, 0, 0, 0]))
        self.assertTrue(closed_by_server(sock))
        self.wait_sample("hearth_mux_refused_total", 'reason="malformed"', 1)

    def test_a_client_hello_a_byte_at_a_time_is_read_whole(self):
        context = ssl.create_default_context(cafile=self.upstream.certificate)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname=UPSTREAM_NAME)
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        sock = self.connect()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in outgoing.read():
            sock.sendall(bytes([byte]))
        self.finish_handshake(sock, tls, incoming, outgoing)
        self.assertEqual(tls.getpeercert()["subject"][0][0][1], UPSTREAM_NAME)
        self.wait_sample("hearth_mux_connections_total", 'kind="upstream"', 1)

    def test_a_reload_changes_the_upstreams_for_new_connections(self):
        with open(self.config_path) as config:
            text = config.read()
        with open(self.config_path, "w") as config:
            config.write(text.replace(f'sni = "{UPSTREAM_NAME}"', 'sni = "other.test"'))
        self.admin("/v1/reload", method="POST")
        # app.test is now no upstream's: TURN over TLS answers with hearthd's certificate.
        context = ssl.create_default_context(cafile=self.certificate)
        context.check_hostname = False
        tls = context.wrap_socket(self.connect(), server_hostname=UPSTREAM_NAME)
        self.addCleanup(tls.close)
        self.assertIn("localhost", str(tls.getpeercert()["subject"]))
        # other.test reaches the web app, whose certificate names app.test.
        context = ssl.create_default_context(cafile=self.upstream.certificate)
        context.check_hostname = False
        tls = context.wrap_socket(self.connect(), server_hostname="other.test")
        self.addCleanup(tls.close)
        self.assertEqual(self.https(tls, b"GET / HTTP/1.1\r\nHost: other.test\r\n\r\n"),
                         b"the web app answers")


class MuxBoundsTest(MuxCase):
    """Connections are admitted within the node's bounds before their first bytes are
    read; those closed for their first bytes leave the bounds again."""

    limits_extra = "max_connections_per_source = 2;"

    def test_refused_connections_give_their_place_back(self):
        for junk in (b"", b"GET / HTTP/1.1\r\n\r\n", bytes([22, 3, 1, 0, 4, 2, 0, 0, 0]), b""):
            sock = self.connect()
            if junk:
                sock.sendall(junk)
            self.assertTrue(closed_by_server(sock, timeout=self.upstream_timeout + 8))
            sock.close()
        # Four refused one after another; a bound of two still has room for a client.
        client = harness.StreamTurnClient(self.mux_port)
        self.addCleanup(client.close)
        self.assertEqual(client.allocate()[0], "127.0.0.1")
        self.wait_sample("hearth_mux_refused_total", 'reason="timeout"', 2)


class MuxBehindProxyTest(MuxCase):
    """A load balancer's PROXY header comes before the first bytes the mux reads."""

    proxy_protocol = 'proxy_protocol_from = [ "127.0.0.0/8" ];'

    def test_turn_after_a_proxy_header_is_the_named_clients(self):
        sock = self.connect()
        request = harness.binding_request(os.urandom(12))
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.mux_port)) + request)
        response = harness.read_stun_from_stream(sock)
        self.assertEqual(mapped_address(response), CLIENT)
        self.wait_sample("hearth_mux_connections_total", 'kind="turn_tcp"', 1)

    def test_tls_for_the_upstream_after_a_proxy_header_reaches_it(self):
        context = ssl.create_default_context(cafile=self.upstream.certificate)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname=UPSTREAM_NAME)
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        sock = self.connect()
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.mux_port)) + outgoing.read())
        self.finish_handshake(sock, tls, incoming, outgoing)
        self.wait_sample("hearth_mux_connections_total", 'kind="upstream"', 1)


if __name__ == "__main__":
    unittest.main()
