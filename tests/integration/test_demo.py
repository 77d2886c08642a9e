"""./run.sh's demo as a new user meets it: hearthd --demo prints RTCIceServer JSON, and every
URL in it allocates with the credential printed beside it, the multiplexing port's TCP and
TLS URLs included."""

import hashlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest
import urllib.request

import harness


class BannerClient(harness.TurnClient):
    """A TURN client with the username and credential the banner printed."""

    def __init__(self, sock, username, credential):
        self.sock = sock
        self.username = username
        self.key = hashlib.md5(f"{username}:hearth:{credential}".encode()).digest()
        self.nonce = None

    def transmit(self, data):
        self.sock.sendall(data)

    def exchange(self, request):
        if self.sock.type == socket.SOCK_DGRAM:
            self.sock.send(request)
            return self.sock.recv(4096)
        self.sock.sendall(request)
        return harness.read_stun_from_stream(self.sock)


class DemoTest(unittest.TestCase):

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.certificate, key = harness.make_certificate(directory.name)
        self.ports = {"plain": harness.free_port(),
                      "tls": harness.free_port((socket.SOCK_STREAM,)),
                      "mux": harness.free_port((socket.SOCK_STREAM,))}
        self.hearthd = harness.Process(
            [harness.HEARTHD, "--demo", "--port", str(self.ports["plain"]),
             "--tls-port", str(self.ports["tls"]), "--mux-port", str(self.ports["mux"]),
             "--tls-certificate", self.certificate, "--tls-private-key", key],
            "hearthd", signal.SIGINT)
        self.addCleanup(harness.stop_cleanly, self, self.hearthd)
        self.hearthd.wait_for_line("Stop with Ctrl-C.")
        servers = re.findall(r"^(\{\"urls\": .*\})$", self.hearthd.output(), re.MULTILINE)
        self.assertEqual(len(servers), 2, self.hearthd.output())
        self.server = json.loads(servers[0])

    def connect(self, url):
        scheme, host, port, transport = re.fullmatch(
            r"(turns?):([^:]+):(\d+)\?transport=(udp|tcp)", url).groups()
        if transport == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(10)
            sock.connect(("127.0.0.1", int(port)))
        else:
            sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        if scheme == "turns":
            context = ssl.create_default_context(cafile=self.certificate)
            sock = context.wrap_socket(sock, server_hostname=host)
        self.addCleanup(sock.close)
        return BannerClient(sock, self.server["username"], self.server["credential"])

    def test_the_banner_lists_every_transport_and_the_mux_port(self):
        urls = self.server["urls"]
        mux = self.ports["mux"]
        self.assertIn(f"turn:127.0.0.1:{mux}?transport=tcp", urls)
        self.assertIn(f"turns:localhost:{mux}?transport=tcp", urls)
        self.assertIn(f"turns:localhost:{self.ports['tls']}?transport=tcp", urls)
        self.assertEqual(len(urls), 5, urls)

    def test_every_url_relays_with_the_printed_credential(self):
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(10)
        for url in self.server["urls"]:
            with self.subTest(url=url):
                client = self.connect(url)
                relayed = client.allocate()
                self.assertEqual(relayed[0], "127.0.0.1")
                client.permit(*peer.getsockname())
                client.send_indication(*peer.getsockname(), f"to the peer via {url}".encode())
                data, source = peer.recvfrom(2048)
                self.assertEqual(data, f"to the peer via {url}".encode())
                self.assertEqual(source, relayed)
                peer.sendto(b"and back", source)
                indication = self.receive(client)
                self.assertIn(b"and back", indication)

    def receive(self, client):
        if client.sock.type == socket.SOCK_DGRAM:
            return client.sock.recv(4096)
        return harness.read_stun_from_stream(client.sock)

    def test_the_admin_link_opens_and_hearthctl_status_needs_no_flags(self):
        link = re.search(r"Admin page: (http://\S+)", self.hearthd.output()).group(1)
        page, token = link.split("#token=")
        with urllib.request.urlopen(page, timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertIn(b"<html", response.read().lower())
        request = urllib.request.Request(page.rstrip("/") + "/v1/sessions",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            self.assertIn(b"demo-session", response.read())
        hearthctl = os.environ.get("HEARTHCTL", "")
        self.assertTrue(hearthctl, "HEARTHCTL must name the hearthctl binary (ctest sets it)")
        status = subprocess.run([hearthctl, "status"], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn("ready", status.stdout)


if __name__ == "__main__":
    unittest.main()
