"""coturn's turnutils_uclient relays through hearthd to coturn's turnutils_peer.

uclient runs with -c (no RTCP allocation: that one asks for an EVEN-PORT reservation,
which hearth does not offer) and checks every echoed packet itself; the test reads its
summary and demands that nothing was lost.
"""

import re
import shutil
import socket
import subprocess
import unittest

import harness

UCLIENT = shutil.which("turnutils_uclient")
MESSAGES = 100
CLIENTS = 2


class RelayTest(harness.HearthTest):
    relay_ports = (40000, 40999)
    # uclient retries a refused Allocate many times; a ban, or the throttle that leaves a
    # source's failures unanswered, would leave it waiting.
    extra_config = ("limits = { auth_failures_before_ban = 1000; auth_failures_before_throttle = 1000; "
                    "allocate_requests_per_second = 0; };")

    with_tls = True
    relay_extra = harness.TCP_ALLOCATIONS  # uclient -T: RFC 6062 relays

    def setUp(self):
        # TCP and TLS on one port too, as on 443 in production.
        self.mux_port = harness.free_port((socket.SOCK_STREAM,))
        self.listen_extra = f'mux = [ "127.0.0.1:{self.mux_port}" ];'
        super().setUp()

    def uclient(self, *options, user="alice", session="s1", secret=harness.SECRET, port=None):
        if UCLIENT is None:
            self.fail("turnutils_uclient is missing: run ./test.sh (it installs coturn)")
        username, password = harness.mint(session, user, secret)
        argv = [UCLIENT, "-p", str(port or self.port), "-u", username, "-w", password,
                "-n", str(MESSAGES), "-m", str(CLIENTS), "-l", "160", "-z", "5", "-c", *options]
        if "-T" not in options:  # TCP relays run client to client; others echo off a peer
            argv += ["-e", "127.0.0.1", "-r", str(self.start_peer())]
        argv.append("127.0.0.1")
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return result.stdout + result.stderr

    def assert_no_loss(self, output):
        # uclient prints running totals; the last line is the final count.
        totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output)
        lost = re.findall(r"Total lost packets (\d+)", output)
        self.assertTrue(totals and lost, output)
        self.assertEqual(int(totals[-1][0]), MESSAGES * CLIENTS, output)
        self.assertEqual(int(totals[-1][1]), MESSAGES * CLIENTS, output)
        self.assertEqual(int(lost[-1]), 0, output)

    def test_udp_over_channels(self):
        self.assert_no_loss(self.uclient())

    def test_udp_over_send_indications(self):
        self.assert_no_loss(self.uclient("-s"))

    def test_tcp_over_channels(self):
        self.assert_no_loss(self.uclient("-t"))

    def test_tcp_over_send_indications(self):
        self.assert_no_loss(self.uclient("-t", "-s"))

    def test_tls_over_channels(self):
        self.assert_no_loss(self.uclient("-t", "-S", port=self.tls_port))

    def test_tls_over_send_indications(self):
        self.assert_no_loss(self.uclient("-t", "-S", "-s", port=self.tls_port))

    def test_tcp_through_the_mux_port(self):
        self.assert_no_loss(self.uclient("-t", port=self.mux_port))

    def test_tls_through_the_mux_port(self):
        self.assert_no_loss(self.uclient("-t", "-S", port=self.mux_port))

    def test_rfc6062_tcp_relay_over_tls_through_the_mux_port(self):
        self.assert_no_loss(self.uclient("-T", "-S", port=self.mux_port))

    def test_rfc6062_tcp_relay_over_tcp(self):
        self.assert_no_loss(self.uclient("-T"))

    def test_rfc6062_tcp_relay_over_tls(self):
        self.assert_no_loss(self.uclient("-T", "-S", port=self.tls_port))

    def test_wrong_secret_is_refused_and_logged(self):
        output = self.uclient(secret="not-the-secret-at-all-0123456789")
        self.assertIn("Cannot complete Allocation", output)
        self.hearthd.wait_for_line("wrong password")

    def test_user_outside_the_session_is_refused_with_the_reason(self):
        output = self.uclient(user="mallory")
        self.assertIn("Cannot complete Allocation", output)
        self.hearthd.wait_for_line("user is not a participant")

    def test_ended_session_is_refused(self):
        output = self.uclient(session="over")
        self.assertIn("Cannot complete Allocation", output)
        self.hearthd.wait_for_line("session not active")


class Ipv6RelayTest(harness.HearthTest):
    relay_ports = (42000, 42999)
    relay_ipv6 = "::1"

    def test_ipv6_relayed_addresses(self):
        """REQUESTED-ADDRESS-FAMILY IPv6 (uclient -x): relayed on ::1 to a peer on ::1."""
        if UCLIENT is None:
            self.fail("turnutils_uclient is missing: run ./test.sh (it installs coturn)")
        peer_port = self.start_peer("::1")
        username, password = harness.mint("s1", "alice")
        argv = [UCLIENT, "-p", str(self.port), "-u", username, "-w", password, "-e", "::1",
                "-r", str(peer_port), "-x", "-n", str(MESSAGES), "-m", str(CLIENTS), "-l", "160",
                "-z", "5", "-c", "127.0.0.1"]
        output = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        RelayTest.assert_no_loss(self, output.stdout + output.stderr)
        self.hearthd.wait_for_line("relayed=[::1]:")


class PeerPolicyTest(harness.HearthTest):
    allow_loopback = False
    relay_ports = (41000, 41999)

    def test_loopback_peer_is_refused_with_403(self):
        if UCLIENT is None:
            self.fail("turnutils_uclient is missing: run ./test.sh (it installs coturn)")
        username, password = harness.mint("s1", "alice")
        argv = [UCLIENT, "-p", str(self.port), "-u", username, "-w", password, "-e", "127.0.0.1",
                "-r", "9", "-n", "5", "-m", "1", "-c", "127.0.0.1"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertIn("403", result.stdout + result.stderr)
        self.hearthd.wait_for_line("refused by the peer policy")


if __name__ == "__main__":
    unittest.main()
