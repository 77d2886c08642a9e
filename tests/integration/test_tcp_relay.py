"""RFC 6062 TCP relays through a real hearthd: off unless the config turns them on (442,
counted); when on, a Connect to a denied port is refused (403, counted) and nothing
connects; a side that closes has everything it sent delivered to the other side first, in
both directions, even when more than the per-stream output cap
(limits.stream_output_buffer_bytes) is still queued."""

import json
import os
import socket
import threading
import unittest

import harness


PAYLOAD_BYTES = 2_000_000  # eight times the 256 KiB output cap


class TcpAllocationsOffTest(harness.AdminApi, harness.HearthTest):
    """The default config: no relay.tcp_allocations."""

    def setUp(self):
        self.extra_config = self.admin_config()
        super().setUp()

    def test_a_tcp_allocation_gets_442_and_is_counted(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        self.assertEqual(harness.error_code(client.allocate_answer(protocol=6)), 442)
        self.assertEqual(self.metric("hearth_tcp_allocations_refused_total"), 1)
        self.assertEqual(self.metric("hearth_allocations_created_total"), 0)
        # A UDP relay over the same connection is still given (the nonce is known now).
        answer = client.request(harness.ALLOCATE, [(0x0019, bytes([17, 0, 0, 0]))])
        self.assertEqual(harness.error_code(answer), 0)
        self.assertEqual(self.metric("hearth_allocations_created_total"), 1)

    def test_a_reload_turns_them_on_for_new_allocations(self):
        with open(self.config_path) as file:
            text = file.read()
        with open(self.config_path, "w") as file:
            file.write(text.replace("relay = { ", f"relay = {{ {harness.TCP_ALLOCATIONS} ", 1))
        reloaded = json.loads(self.admin("/v1/reload", method="POST"))
        self.assertEqual(reloaded["applied_live"], ["relay.tcp_allocations"])
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        self.assertEqual(client.allocate(protocol=6)[0], "127.0.0.1")


class TcpDeniedPortTest(harness.AdminApi, harness.HearthTest):
    def setUp(self):
        self.extra_config = self.admin_config()
        # A peer listening on a denied port: a Connect that got through would reach it.
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(self.listener.close)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.denied_port = self.listener.getsockname()[1]
        self.relay_extra = (f"{harness.TCP_ALLOCATIONS} "
                            f"tcp_denied_ports = [ 25, 465, 587, {self.denied_port} ];")
        super().setUp()

    def test_a_connect_to_a_denied_port_gets_403_is_counted_and_connects_nothing(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate(protocol=6)
        for port in (25, 587, self.denied_port):
            answer = client.request(harness.CONNECT, [(0x0012, harness.xor_peer("127.0.0.1", port))])
            self.assertEqual(harness.error_code(answer), 403, port)
        self.assertEqual(self.metric("hearth_tcp_connect_denied_port_total"), 3)
        # The admin API's port is denied too, whatever the list says.
        answer = client.request(harness.CONNECT,
                                [(0x0012, harness.xor_peer("127.0.0.1", self.admin_port))])
        self.assertEqual(harness.error_code(answer), 403)
        self.listener.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.listener.accept()


class TcpRelayCloseTest(harness.HearthTest):
    relay_extra = harness.TCP_ALLOCATIONS
    extra_config = "limits = { allocation_bandwidth_bps = 0; session_bandwidth_bps = 0; };"

    def relay_then_close(self, sender, receiver):
        sent = os.urandom(PAYLOAD_BYTES)
        failures = []

        def send_and_close():
            try:
                sender.sendall(sent)
                sender.close()
            except OSError as error:
                failures.append(error)

        thread = threading.Thread(target=send_and_close, daemon=True)
        thread.start()
        received = bytearray()
        while len(received) <= len(sent):
            chunk = receiver.recv(65536)  # 10 s timeout: a stalled relay fails, never hangs
            if not chunk:
                break
            received += chunk
        thread.join(timeout=10)
        self.assertFalse(failures)
        self.assertEqual(len(received), len(sent))
        self.assertEqual(bytes(received), sent)

    def test_what_the_peer_sent_before_closing_all_reaches_the_client(self):
        data, peer = harness.open_tcp_relay(self, self.port)
        data.settimeout(10)
        self.relay_then_close(peer, data)

    def test_what_the_client_sent_before_closing_all_reaches_the_peer(self):
        data, peer = harness.open_tcp_relay(self, self.port)
        self.relay_then_close(data, peer)


if __name__ == "__main__":
    unittest.main()
