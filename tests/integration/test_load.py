"""hearth-load against a real hearthd: allocations set up, traffic relayed both ways with
nothing lost, and the figures it reports add up."""

import json
import os
import socket
import subprocess
import unittest

import harness

HEARTH_LOAD = os.environ.get("HEARTH_LOAD")


class HearthLoadTest(harness.HearthTest):
    relay_ports = (46000, 46999)
    with_tls = True
    extra_config = ("limits = { max_allocations_per_user = 1000; "
                    "unauthenticated_requests_per_second = 0; allocate_requests_per_second = 0; "
                    "upkeep_requests_per_second = 0; };")

    def setUp(self):
        self.mux_port = harness.free_port((socket.SOCK_STREAM,))
        self.listen_extra = f'mux = [ "127.0.0.1:{self.mux_port}" ];'
        super().setUp()

    def load(self, *arguments, port=None):
        if not HEARTH_LOAD:
            self.fail("HEARTH_LOAD must name the hearth-load binary (ctest sets it)")
        result = subprocess.run(
            [HEARTH_LOAD, "--server", f"127.0.0.1:{port or self.port}", "--secret", harness.SECRET,
             "--session", "s1", "--user", "alice", "--duration", "1", "--json",
             "--server-pid", str(self.hearthd.process.pid), *arguments],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_channels_through_an_echo_peer(self):
        report = self.load("--allocations", "20", "--rate", "100", "--payload", "160")
        self.assertGreater(report["sent"], 1000)
        self.assertEqual(report["received"], report["sent"])
        # Through the relay twice: to the echo peer and back.
        self.assertEqual(report["relayed_packets"], 2 * report["sent"])
        self.assertGreater(report["allocations_per_second"], 0)
        self.assertGreater(report["server_cpu_seconds"], 0)
        self.assertGreater(report["packets_per_server_cpu_second"], 0)
        self.assertLessEqual(report["latency_us"]["p50"], report["latency_us"]["p99"])

    def test_send_indications_client_to_client(self):
        report = self.load("--allocations", "4", "--rate", "200", "--mode", "send",
                           "--client-to-client", "--payload", "1200")
        self.assertEqual(report["received"], report["sent"])
        self.assertEqual(report["relayed_packets"], 2 * report["received"])

    def test_tcp_and_tls_clients(self):
        for transport, port in (("tcp", self.port), ("tls", self.tls_port)):
            report = self.load("--transport", transport, "--allocations", "10", "--rate", "100",
                               "--payload", "161", port=port)  # 161: padding on the stream
            self.assertGreater(report["sent"], 500, transport)
            self.assertEqual(report["received"], report["sent"], transport)
            self.assertEqual(report["relayed_packets"], 2 * report["sent"], transport)

    def test_tcp_and_tls_clients_through_the_mux_port(self):
        for transport in ("tcp", "tls"):
            report = self.load("--transport", transport, "--allocations", "10", "--rate", "100",
                               "--payload", "161", port=self.mux_port)
            self.assertGreater(report["sent"], 500, transport)
            self.assertEqual(report["received"], report["sent"], transport)
            self.assertEqual(report["relayed_packets"], 2 * report["sent"], transport)

    def test_sessions_spread_the_clients_round_robin(self):
        # Three more sessions, added as an operator would: the config, then a reload.
        with open(self.config_path) as file:
            config = file.read()
        sessions = "".join(f'{{ id = "many-{i}"; state = "active"; participants = [ "alice" ]; '
                           f'allocation_cap = 10; }},\n' for i in range(3))
        with open(self.config_path, "w") as file:
            file.write(config.replace('session_store = { kind = "embedded"; sessions = (',
                                      'session_store = { kind = "embedded"; sessions = (\n' +
                                      sessions))
        mark = self.hearthd.mark()
        self.hearthd.process.send_signal(harness.signal.SIGHUP)
        self.hearthd.wait_for_line("reload: done", since=mark)

        report = self.load("--allocations", "9", "--rate", "50", "--payload", "160",
                           "--session", "many", "--sessions", "3")
        self.assertEqual(report["received"], report["sent"])
        created = self.hearthd.output(since=mark)
        for i in range(3):
            self.assertEqual(created.count(f"created: session=many-{i} "), 3, created)

    def test_a_wrong_secret_is_a_one_line_error(self):
        result = subprocess.run(
            [HEARTH_LOAD, "--server", f"127.0.0.1:{self.port}", "--secret", "not-the-secret",
             "--session", "s1", "--user", "alice", "--duration", "1"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn("401", result.stderr)


if __name__ == "__main__":
    unittest.main()
