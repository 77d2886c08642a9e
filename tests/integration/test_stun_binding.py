"""STUN Binding over UDP against a real hearthd (RFC 8489 §7.3)."""

import os
import socket
import struct
import unittest

import harness


class BindingTest(harness.HearthTest):
    def exchange(self, sock, request):
        sock.sendto(request, ("127.0.0.1", self.port))
        return sock.recvfrom(2048)[0]

    def test_binding_reports_the_mapped_address_with_a_fingerprint(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(5)
        sock.bind(("127.0.0.1", 0))
        transaction_id = os.urandom(12)
        response = self.exchange(sock, harness.binding_request(transaction_id))
        self.assertEqual(struct.unpack("!H", response[0:2])[0], 0x0101)
        self.assertEqual(response[8:20], transaction_id)
        found = {kind: (value, offset) for kind, value, offset in harness.attributes(response)}
        self.assertIn(0x0020, found, "XOR-MAPPED-ADDRESS")
        self.assertEqual(harness.xor_address(found[0x0020][0], transaction_id), sock.getsockname())
        self.assertNotIn(0x8022, found, "SOFTWARE: unauthenticated answers stay small")
        value, offset = found[0x8028]
        self.assertEqual(struct.unpack("!I", value)[0], harness.fingerprint(response[:offset]))
        sock.close()

    def test_garbage_is_dropped_and_the_server_keeps_answering(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.5)
        for garbage in (b"", b"\xff" * 3, os.urandom(100), harness.binding_request(b"x" * 12)[:19],
                        struct.pack("!HHI", 1, 400, harness.MAGIC_COOKIE) + b"y" * 12):
            sock.sendto(garbage, ("127.0.0.1", self.port))
            with self.assertRaises(socket.timeout):
                sock.recvfrom(2048)
        sock.settimeout(5)
        response = self.exchange(sock, harness.binding_request(os.urandom(12)))
        self.assertEqual(struct.unpack("!H", response[0:2])[0], 0x0101)
        sock.close()


if __name__ == "__main__":
    unittest.main()
