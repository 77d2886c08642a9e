"""RFC 6062 TCP relays through a real hearthd: a side that closes has everything it sent
delivered to the other side first, in both directions, even when more than the
per-stream output cap (limits.stream_output_buffer_bytes) is still queued."""

import os
import socket
import threading

import harness

PAYLOAD_BYTES = 2_000_000  # eight times the 256 KiB output cap


class TcpRelayCloseTest(harness.HearthTest):
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
