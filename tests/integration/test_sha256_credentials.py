"""RFC 8489 §9.2 against a real hearthd: a client that speaks RFC 8489 reads the nonce
cookie and PASSWORD-ALGORITHMS in the 401, allocates with SHA-256 and
MESSAGE-INTEGRITY-SHA256, checks every answer with SHA-256, binds a channel and relays
data; with USERHASH once it has an allocation; a bid-down is refused and counted. The 401
to the smallest Allocate is at most three times its size (issue 17, point 9)."""

import base64
import hashlib
import hmac
import os
import socket
import struct
import urllib.request

import harness

TOKEN = "sha256-test-token-0123456789abcdef"
USERNAME, REALM, NONCE, MESSAGE_INTEGRITY_SHA256 = 0x0006, 0x0014, 0x0015, 0x001C
PASSWORD_ALGORITHM, USERHASH, PASSWORD_ALGORITHMS = 0x001D, 0x001E, 0x8002
MESSAGE_INTEGRITY, FINGERPRINT, XOR_RELAYED_ADDRESS = 0x0008, 0x8028, 0x0016
SHA256_THEN_MD5 = bytes.fromhex("0002000000010000")
SHA256, MD5 = bytes.fromhex("00020000"), bytes.fromhex("00010000")


def sha256_request(method, attributes_list, key, transaction_id=None):
    """A request signed with MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), then FINGERPRINT."""
    transaction_id = transaction_id or os.urandom(12)
    kind = (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
    body = b""
    for attribute_type, value in attributes_list:
        body += struct.pack("!HH", attribute_type, len(value)) + value + b"\0" * (-len(value) % 4)

    def header(length):
        return struct.pack("!HHI", kind, length, harness.MAGIC_COOKIE) + transaction_id

    covered = header(len(body) + 36) + body
    body += struct.pack("!HH", MESSAGE_INTEGRITY_SHA256, 32) + hmac.new(key, covered,
                                                                         hashlib.sha256).digest()
    covered = header(len(body) + 8) + body
    return covered + struct.pack("!HHI", FINGERPRINT, 4, harness.fingerprint(covered))


def verifies_with_sha256(answer, key):
    """MESSAGE-INTEGRITY-SHA256 of an answer, checked as RFC 8489 §14.6 says; and no
    MESSAGE-INTEGRITY beside it."""
    found = {kind: (value, offset) for kind, value, offset in harness.attributes(answer)}
    if MESSAGE_INTEGRITY in found or MESSAGE_INTEGRITY_SHA256 not in found:
        return False
    value, offset = found[MESSAGE_INTEGRITY_SHA256]
    covered = answer[:2] + struct.pack("!H", offset + 36 - 20) + answer[4:offset]
    return hmac.compare_digest(value, hmac.new(key, covered, hashlib.sha256).digest())


class Sha256Client:
    """An RFC 8489 client over UDP: answers to its requests must verify with SHA-256."""

    def __init__(self, test, port):
        self.test = test
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        test.addCleanup(self.sock.close)
        self.username, password = harness.mint("s1", "alice")
        self.key = hashlib.sha256(f"{self.username}:hearth:{password}".encode()).digest()
        self.nonce = None
        self.userhash = False

    def exchange(self, request):
        self.sock.send(request)
        return self.sock.recv(4096)

    def challenge(self):
        """The smallest Allocate (28 bytes, no FINGERPRINT) and the 401 it gets."""
        request = struct.pack("!HHI", 0x0003, 8, harness.MAGIC_COOKIE) + os.urandom(12) + \
            struct.pack("!HH", 0x0019, 4) + bytes([17, 0, 0, 0])
        answer = self.exchange(request)
        self.nonce = dict((kind, value) for kind, value, _ in harness.attributes(answer))[NONCE]
        return request, answer

    def request(self, method, attributes_list, algorithms=SHA256_THEN_MD5, algorithm=SHA256):
        name = (USERHASH, hashlib.sha256(f"{self.username}:hearth".encode()).digest()) \
            if self.userhash else (USERNAME, self.username.encode())
        credentials = [name, (REALM, b"hearth"), (NONCE, self.nonce),
                       (PASSWORD_ALGORITHMS, algorithms), (PASSWORD_ALGORITHM, algorithm)]
        return self.exchange(sha256_request(method, attributes_list + credentials, self.key))

    def expect_success(self, answer, what):
        self.test.assertEqual(struct.unpack("!H", answer[0:2])[0] & 0x0110, 0x0100,
                              f"{what} failed with {harness.error_code(answer)}")
        self.test.assertTrue(verifies_with_sha256(answer, self.key),
                             f"{what}: the answer is not signed with SHA-256")


class Sha256CredentialsTest(harness.HearthTest):
    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; token = "{TOKEN}"; }};'
        super().setUp()

    def metric(self, series):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/metrics",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(series + " "):
                    return int(line.split()[1])
        return None

    def test_the_401_offers_sha256_in_a_nonce_that_says_so_within_three_times_the_request(self):
        client = Sha256Client(self, self.port)
        request, answer = client.challenge()
        self.assertEqual(harness.error_code(answer), 401)
        self.assertEqual(len(request), 28)
        self.assertLessEqual(len(answer), 3 * len(request))
        found = dict((kind, value) for kind, value, _ in harness.attributes(answer))
        self.assertEqual(found[PASSWORD_ALGORITHMS], SHA256_THEN_MD5)
        self.assertTrue(client.nonce.startswith(b"obMatJos2"), client.nonce)
        features = int.from_bytes(base64.b64decode(client.nonce[9:13]), "big")
        self.assertEqual(features, 0b01, "Password algorithms; no username anonymity yet")
        self.assertNotIn(FINGERPRINT, found, "the request had none")
        self.assertNotIn(0x8022, found, "no SOFTWARE before authentication")

    def test_a_whole_allocation_with_sha256_relays_data(self):
        client = Sha256Client(self, self.port)
        client.challenge()
        answer = client.request(harness.ALLOCATE, [(0x0019, bytes([17, 0, 0, 0]))])
        client.expect_success(answer, "Allocate")
        relayed = next(harness.xor_address(value, answer[8:20])
                       for kind, value, _ in harness.attributes(answer)
                       if kind == XOR_RELAYED_ADDRESS)

        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.settimeout(5)
        peer.bind(("127.0.0.1", 0))
        peer_host, peer_port = peer.getsockname()
        client.expect_success(client.request(harness.CREATE_PERMISSION,
                                             [(0x0012, harness.xor_peer(peer_host, peer_port))]),
                              "CreatePermission")
        bound = client.request(harness.CHANNEL_BIND,
                               [(0x000C, struct.pack("!HH", 0x4000, 0)),
                                (0x0012, harness.xor_peer(peer_host, peer_port))])
        client.expect_success(bound, "ChannelBind")

        client.sock.send(struct.pack("!HH", 0x4000, 5) + b"hello" + b"\0" * 3)
        data, source = peer.recvfrom(2048)
        self.assertEqual((data, source), (b"hello", relayed))
        peer.sendto(b"back", relayed)
        self.assertEqual(client.sock.recv(2048), struct.pack("!HH", 0x4000, 4) + b"back")

        # With an allocation on this 5-tuple, a USERHASH may stand for the username.
        client.userhash = True
        client.expect_success(client.request(harness.REFRESH, [(0x000D, struct.pack("!I", 600))]),
                              "Refresh with USERHASH")

    def test_a_bid_down_is_refused_with_400_and_counted(self):
        client = Sha256Client(self, self.port)
        client.challenge()
        # Someone on the path left MD5 alone in the 401's list; the client echoes it.
        answer = client.request(harness.ALLOCATE, [(0x0019, bytes([17, 0, 0, 0]))],
                                algorithms=MD5, algorithm=MD5)
        self.assertEqual(harness.error_code(answer), 400)
        self.assertEqual(self.metric('hearth_auth_failures_total{reason="bid_down"}'), 1)
        # The same client with the list as it was sent allocates.
        client.expect_success(client.request(harness.ALLOCATE, [(0x0019, bytes([17, 0, 0, 0]))]),
                              "Allocate")

    def test_an_rfc5389_client_still_allocates_with_md5(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        answer = client.allocate_answer()
        found = {kind: (value, offset) for kind, value, offset in harness.attributes(answer)}
        self.assertIn(MESSAGE_INTEGRITY, found, f"Allocate: {harness.error_code(answer)}")
        self.assertNotIn(MESSAGE_INTEGRITY_SHA256, found)
        value, offset = found[MESSAGE_INTEGRITY]
        covered = answer[:2] + struct.pack("!H", offset + 24 - 20) + answer[4:offset]
        self.assertEqual(value, hmac.new(client.key, covered, hashlib.sha1).digest())


if __name__ == "__main__":
    import unittest
    unittest.main()
