"""The PROXY protocol on the TCP and TLS listeners (haproxy's proxy-protocol.txt, v1 and
v2): from a trusted load balancer (`listen.proxy_protocol_from`) the header is required
and the client it names is the client everywhere; from anyone else it is refused."""

import json
import os
import signal
import socket
import ssl
import struct
import tempfile
import time
import unittest
import urllib.request

import harness

TOKEN = "proxy-protocol-test-token-0123456789"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
CLIENT = ("198.51.100.7", 40000)


def v2_header(source, destination, command=0x21):
    """A v2 PROXY (or LOCAL) header for TCP over IPv4, with a NOOP TLV to skip."""
    block = (socket.inet_aton(source[0]) + socket.inet_aton(destination[0]) +
             struct.pack("!HH", source[1], destination[1]) + b"\x04\x00\x02\x00\x00")
    return V2_SIGNATURE + bytes([command, 0x11]) + struct.pack("!H", len(block)) + block


def v1_header(source, destination):
    return (f"PROXY TCP4 {source[0]} {destination[0]} {source[1]} {destination[1]}\r\n"
            .encode())


def mapped_address(response):
    for kind, value, _ in harness.attributes(response):
        if kind == 0x0020:
            return harness.xor_address(value, response[8:20])
    raise AssertionError("no XOR-MAPPED-ADDRESS")


def closed_by_server(sock, timeout=10):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


class ProxyProtocolCase(harness.HearthTest):
    with_tls = True
    relay_ports = (45000, 45499)

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = (
            "limits = { unauthenticated_connection_timeout = 2; };\n"
            f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{TOKEN}"; }};')
        super().setUp()

    def admin(self, path):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def sample(self, name):
        for line in self.admin("/metrics").splitlines():
            if line.startswith(name + " "):
                return int(line.split()[-1])
        self.fail(f"no {name} in /metrics")

    def wait_sample(self, name, count):
        """Counters are read from the workers: wait, bounded, for the one expected."""
        deadline = time.monotonic() + 10
        while self.sample(name) < count and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a counter, not synchronising on time
        self.assertEqual(self.sample(name), count, name)

    def wait_refused(self, reason, count):
        self.wait_sample(f'hearth_proxy_header_refused_total{{reason="{reason}"}}', count)

    def tcp(self, port=None):
        sock = socket.create_connection(("127.0.0.1", port or self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.addCleanup(sock.close)
        return sock

    def binding_over(self, sock):
        request = harness.binding_request(os.urandom(12))
        sock.sendall(request)
        response = harness.read_stun_from_stream(sock)
        self.assertEqual(response[8:20], request[8:20])
        return mapped_address(response)


class TrustedProxyTest(ProxyProtocolCase):
    listen_extra = 'proxy_protocol_from = [ "10.0.0.0/8", "127.0.0.0/8" ];'

    def test_v2_header_names_the_client_in_xor_mapped_address(self):
        sock = self.tcp()
        request = harness.binding_request(os.urandom(12))
        # The header and the first request in one write: the request is not left waiting.
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.port)) + request)
        self.assertEqual(mapped_address(harness.read_stun_from_stream(sock)), CLIENT)

    def test_v1_header_names_the_client(self):
        sock = self.tcp()
        sock.sendall(v1_header(CLIENT, ("127.0.0.1", self.port)))
        self.assertEqual(self.binding_over(sock), CLIENT)

    def test_a_header_a_byte_at_a_time_is_read_whole(self):
        sock = self.tcp()
        for byte in v2_header(CLIENT, ("127.0.0.1", self.port)):
            sock.sendall(bytes([byte]))
        self.assertEqual(self.binding_over(sock), CLIENT)

    def test_a_proxy_that_closes_before_the_header_ends_is_counted(self):
        sock = self.tcp()
        sock.sendall(V2_SIGNATURE)
        sock.close()
        self.wait_refused("closed_early", 1)

    def test_v2_local_keeps_the_connections_address(self):
        sock = self.tcp()
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.port), command=0x20))
        self.assertEqual(self.binding_over(sock), sock.getsockname())

    def test_tls_after_a_v2_header_in_the_same_write_as_the_client_hello(self):
        sock = self.tcp(self.tls_port)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.tls_port)) + outgoing.read())
        while True:
            data = sock.recv(16384)
            self.assertTrue(data, "closed during the handshake")
            incoming.write(data)
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
        sock.sendall(outgoing.read())
        request = harness.binding_request(os.urandom(12))
        tls.write(request)
        sock.sendall(outgoing.read())
        response = b""
        while len(response) < 20 or len(response) < 20 + struct.unpack("!H", response[2:4])[0]:
            try:
                response += tls.read(4096)
            except ssl.SSLWantReadError:
                data = sock.recv(16384)
                self.assertTrue(data, "closed before the answer")
                incoming.write(data)
        self.assertEqual(response[8:20], request[8:20])
        self.assertEqual(mapped_address(response), CLIENT)

    def test_tls_after_a_v1_header(self):
        sock = self.tcp(self.tls_port)
        sock.sendall(v1_header(CLIENT, ("127.0.0.1", self.tls_port)))
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        tls = context.wrap_socket(sock, server_hostname="localhost")
        self.addCleanup(tls.close)
        self.assertEqual(self.binding_over(tls), CLIENT)

    def test_an_allocation_belongs_to_the_client_the_header_names(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.transmit(v2_header(CLIENT, ("127.0.0.1", self.port)))
        client.allocate()
        allocations = json.loads(self.admin("/v1/allocations"))["allocations"]
        self.assertEqual([a["client"] for a in allocations], ["198.51.100.7:40000"])

    def test_a_connection_without_a_header_is_closed_and_counted(self):
        sock = self.tcp()
        sock.sendall(harness.binding_request(os.urandom(12)))
        self.assertTrue(closed_by_server(sock))
        self.wait_refused("missing", 1)

    def test_a_malformed_header_is_closed_and_counted(self):
        sock = self.tcp()
        sock.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 99999\r\n")
        self.assertTrue(closed_by_server(sock))
        self.wait_refused("malformed", 1)

    def test_a_header_that_does_not_end_within_the_deadline_is_closed_and_counted(self):
        sock = self.tcp()
        sock.sendall(b"PROXY TCP4 198.51.100.7 ")  # and nothing more
        self.assertTrue(closed_by_server(sock, timeout=15))  # the deadline is 2 s
        self.wait_refused("timeout", 1)


class UntrustedSourceTest(ProxyProtocolCase):
    # Only a range the test's loopback connections are not in.
    listen_extra = 'proxy_protocol_from = [ "10.0.0.0/8" ];'

    def test_a_v2_header_from_an_untrusted_address_is_refused_and_counted(self):
        sock = self.tcp()
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.port)) +
                     harness.binding_request(os.urandom(12)))
        self.assertTrue(closed_by_server(sock))
        self.wait_refused("untrusted", 1)

    def test_a_v1_header_from_an_untrusted_address_is_refused_and_counted(self):
        sock = self.tcp()
        sock.sendall(v1_header(CLIENT, ("127.0.0.1", self.port)) +
                     harness.binding_request(os.urandom(12)))
        self.assertTrue(closed_by_server(sock))
        self.wait_refused("untrusted", 1)

    def test_a_header_before_a_tls_handshake_from_an_untrusted_address_fails_it(self):
        sock = self.tcp(self.tls_port)
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.tls_port)))
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            tls = context.wrap_socket(sock, server_hostname="localhost")
            self.addCleanup(tls.close)
            self.binding_over(tls)
        # The header is the start of the TLS stream, which fails there: counted as such.
        self.wait_sample("hearth_tls_handshake_failures_total", 1)

    def test_an_untrusted_client_is_served_as_itself(self):
        sock = self.tcp()
        self.assertEqual(self.binding_over(sock), sock.getsockname())

    def test_a_reload_trusts_new_connections_and_keeps_open_ones(self):
        before = self.tcp()
        self.assertEqual(self.binding_over(before), before.getsockname())
        with open(self.config_path) as config:
            text = config.read()
        with open(self.config_path, "w") as config:
            config.write(text.replace(self.listen_extra,
                                      'proxy_protocol_from = [ "127.0.0.0/8" ];'))
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/v1/reload",
                                         method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            plan = json.loads(response.read().decode())
        self.assertIn("listen.proxy_protocol_from", plan["applied_live"])
        after = self.tcp()
        after.sendall(v2_header(CLIENT, ("127.0.0.1", self.port)))
        self.assertEqual(self.binding_over(after), CLIENT)
        self.assertEqual(self.binding_over(before), before.getsockname())


def wait_listening(port, process, timeout=harness.READY_TIMEOUT):
    """Until a socket listens on 127.0.0.1:`port` (/proc/net/tcp, state 0A): a probe
    connection would count as one of haproxy's round-robin turns."""
    wanted = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[1] == wanted and fields[3] == "0A":
                    return
        if process.process.poll() is not None:
            break
        time.sleep(0.05)  # polling the kernel's table, bounded
    raise AssertionError(f"{process.name} is not listening on {port}:\n{process.output()}")


class SourcedStreamClient(harness.StreamTurnClient):
    """A TURN client over TCP from a chosen loopback address."""

    def __init__(self, port, source, **credentials):
        harness.TurnClient.__init__(
            self, socket.create_connection(("127.0.0.1", port), timeout=10,
                                           source_address=(source, 0)), **credentials)


class HaproxyTest(unittest.TestCase):
    """haproxy (Debian's) in TCP mode with send-proxy-v2, round robin over two hearthd
    nodes that trust only haproxy's address: each node sees the real clients."""

    def setUp(self):
        if not harness.HEARTHD or not os.access(harness.HEARTHD, os.X_OK):
            self.fail("HEARTHD must name the hearthd binary (ctest sets it)")
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)
        self.nodes = [self.start_node(n, relay) for n, relay in
                      enumerate([(45500, 45749), (45750, 45999)])]
        self.haproxy_port = harness.free_port((socket.SOCK_STREAM,))
        config_path = os.path.join(self.directory.name, "haproxy.cfg")
        with open(config_path, "w") as config:
            config.write(HAPROXY_CONFIG.format(
                port=self.haproxy_port, node0=self.nodes[0]["port"], node1=self.nodes[1]["port"]))
        self.haproxy = harness.Process(["haproxy", "-db", "-f", config_path], "haproxy")
        self.addCleanup(self.haproxy.stop)
        wait_listening(self.haproxy_port, self.haproxy)

    def start_node(self, index, relay_ports):
        port = harness.free_port()
        admin_port = harness.free_port((socket.SOCK_STREAM,))
        path = os.path.join(self.directory.name, f"node{index}.conf")
        with open(path, "w") as config:
            config.write(harness.config_text(
                port, relay_ports,
                extra=f'admin = {{ listen = "127.0.0.1:{admin_port}"; token = "{TOKEN}"; }};',
                listen_extra='proxy_protocol_from = [ "127.0.0.1/32" ];'))
        process = harness.Process([harness.HEARTHD, "--config", path], f"hearthd{index}",
                                  signal.SIGINT)
        self.addCleanup(harness.stop_cleanly, self, process)
        process.wait_for_line("hearthd ready:")
        return {"port": port, "admin_port": admin_port, "process": process}

    def admin(self, node, path):
        request = urllib.request.Request(f"http://127.0.0.1:{node['admin_port']}{path}",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def test_each_node_sees_the_real_client_addresses(self):
        clients = []
        for source in ("127.0.0.2", "127.0.0.3"):
            client = SourcedStreamClient(self.haproxy_port, source)
            self.addCleanup(client.close)
            client.allocate()
            clients.append(client)
        expected = {"%s:%d" % client.sock.getsockname() for client in clients}
        seen = []
        for node in self.nodes:
            allocations = json.loads(self.admin(node, "/v1/allocations"))["allocations"]
            # Round robin: one client on each node, and never haproxy's own address.
            self.assertEqual(len(allocations), 1, node["process"].name)
            seen += [allocation["client"] for allocation in allocations]
        self.assertEqual(set(seen), expected)

    def test_a_header_sent_around_haproxy_is_refused(self):
        sock = socket.create_connection(("127.0.0.1", self.nodes[0]["port"]), timeout=10,
                                        source_address=("127.0.0.2", 0))
        self.addCleanup(sock.close)
        sock.sendall(v2_header(CLIENT, ("127.0.0.1", self.nodes[0]["port"])) +
                     harness.binding_request(os.urandom(12)))
        self.assertTrue(closed_by_server(sock))
        name = 'hearth_proxy_header_refused_total{reason="untrusted"} '
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = self.admin(self.nodes[0], "/metrics").splitlines()
            if any(line.startswith(name) and line.split()[-1] != "0" for line in lines):
                return
            time.sleep(0.05)  # polling a counter, bounded
        self.fail("the untrusted header was not counted")


HAPROXY_CONFIG = """
global
    maxconn 256
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend turn
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    server node0 127.0.0.1:{node0} send-proxy-v2
    server node1 127.0.0.1:{node1} send-proxy-v2
"""


if __name__ == "__main__":
    unittest.main()
