"""/metrics of a real hearthd as Prometheus reads it: `promtool check metrics` finds no
problem (types, base units, families kept together), and the node's own families (build,
process, draining, capacity, certificate expiry, reloads, the session store, the
allocation histograms) say what the node did."""

import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timezone

import harness
import test_redis

PROMTOOL = shutil.which("promtool")
TOKEN = "metrics-test-token-0123456789abcd"
MAX_ALLOCATIONS = 777
MAX_CONNECTIONS = 555


def samples(text):
    """{(name, labels): value} of an exposition, labels as written between the braces."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        found[(name, labels.rstrip("}"))] = float(value)
    return found


def promtool_check(test, text):
    """Runs `promtool check metrics` on `text`: exit 0 and not a word of lint."""
    if PROMTOOL is None:
        test.fail("promtool is missing: run ./test.sh (it installs Debian's prometheus)")
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=30)
    test.assertEqual((checked.returncode, checked.stdout + checked.stderr), (0, ""))


def delete_allocation(test, client):
    """Refresh with LIFETIME 0 (RFC 8656 §7.3): the allocation ends at once."""
    answer = client.request(harness.REFRESH, [(0x000D, struct.pack("!I", 0))])
    test.assertEqual(harness.error_code(answer), 0)


class MetricsFixture(harness.HearthTest):
    relay_ports = (39000, 39499)
    with_tls = True

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = (f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; '
                             f'token = "{TOKEN}"; per_allocation_metrics = true; }};\n'
                             f'limits = {{ max_allocations = {MAX_ALLOCATIONS}; '
                             f'max_connections = {MAX_CONNECTIONS}; }};')
        super().setUp()

    def scrape(self):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/metrics",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def sample(self, name, labels=""):
        return samples(self.scrape())[(name, labels)]

    def post(self, path):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}",
                                         method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    def allocations(self, count):
        """`count` live allocations over UDP, each on its own client."""
        clients = []
        for _ in range(count):
            client = harness.DatagramTurnClient(self.port)
            self.addCleanup(client.close)
            client.allocate()
            clients.append(client)
        return clients


class MetricsLintTest(MetricsFixture):
    def test_promtool_finds_no_problem_with_allocations_live_and_ended(self):
        live = self.allocations(2)
        delete_allocation(self, live[0])  # an ended one: the duration histogram has a sample
        text = self.scrape()
        # What the check must see to mean anything: per-allocation series, the histograms
        # with samples, and the TLS listener's certificate.
        found = samples(text)
        self.assertEqual(found[("hearth_allocation_duration_seconds_count", "")], 1)
        self.assertTrue(any(name == "hearth_allocation_relayed_bytes_total" for name, _ in found))
        self.assertTrue(any(name == "hearth_tls_certificate_expiry_timestamp_seconds"
                            for name, _ in found))
        promtool_check(self, text)

    def test_promtool_rejects_what_it_should(self):
        # The check can fail: a bits gauge named _total is two problems.
        checked = subprocess.run([PROMTOOL or "promtool", "check", "metrics"],
                                 input="# HELP x_bits_total x\n# TYPE x_bits_total gauge\n"
                                       "x_bits_total 1\n",
                                 capture_output=True, text=True, timeout=30)
        self.assertNotEqual(checked.returncode, 0)

    def test_each_family_has_one_help_and_one_type_before_its_samples(self):
        seen, current = set(), None
        for line in self.scrape().splitlines():
            if line.startswith("# TYPE "):
                current = line.split()[2]
                self.assertNotIn(current, seen)
                seen.add(current)
            elif not line.startswith("#"):
                name = line.split("{")[0].split(" ")[0]
                self.assertTrue(name == current or name.startswith(current + "_"), line)


class KernelDropsTest(MetricsFixture):
    def test_a_closed_sockets_kernel_drops_stay_counted(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        relay = client.allocate()
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        client.permit(*peer.getsockname())
        # Stopped, hearthd reads nothing: the relay socket's receive buffer overflows and
        # the kernel counts what it drops on it.
        os.kill(self.hearthd.process.pid, signal.SIGSTOP)
        try:
            for _ in range(16000):
                peer.sendto(b"\xff" * 1400, relay)
        finally:
            os.kill(self.hearthd.process.pid, signal.SIGCONT)
        dropped = self.sample("hearth_udp_socket_drops_total")
        self.assertGreater(dropped, 0)
        delete_allocation(self, client)  # its relay socket closes and leaves /proc/net/udp
        self.assertGreaterEqual(self.sample("hearth_udp_socket_drops_total"), dropped)


class NodeFamiliesTest(MetricsFixture):
    def test_build_info_and_the_process_are_there(self):
        found = samples(self.scrape())
        (build,) = [labels for name, labels in found if name == "hearth_build_info"]
        self.assertIn('version="0.1.0"', build)
        self.assertEqual(found[("hearth_build_info", build)], 1)
        self.assertGreater(found[("process_resident_memory_bytes", "")], 1 << 20)
        self.assertGreater(found[("process_open_fds", "")], 3)
        self.assertGreaterEqual(found[("process_max_fds", "")], found[("process_open_fds", "")])
        started = found[("process_start_time_seconds", "")]
        self.assertLess(abs(started - time.time()), 120)
        self.assertGreaterEqual(found[("process_cpu_seconds_total", "")], 0)

    def test_draining_goes_to_1_after_a_drain(self):
        self.allocations(1)  # so the drain does not end the node at once
        self.assertEqual(self.sample("hearth_draining"), 0)
        self.assertEqual(self.post("/v1/drain?deadline=60"), 200)
        self.assertEqual(self.sample("hearth_draining"), 1)

    def test_capacity_is_the_configured_limit_beside_the_use(self):
        found = samples(self.scrape())
        self.assertEqual(found[("hearth_allocations_limit", "")], MAX_ALLOCATIONS)
        self.assertEqual(found[("hearth_connections_limit", "")], MAX_CONNECTIONS)
        self.allocations(3)
        self.assertEqual(self.sample("hearth_allocations_active"), 3)

    def test_certificate_expiry_is_the_certificates_not_after(self):
        shown = subprocess.run(["openssl", "x509", "-in", self.certificate, "-noout", "-enddate"],
                               capture_output=True, text=True, check=True, timeout=30)
        not_after = datetime.strptime(shown.stdout.strip().split("=", 1)[1],
                                      "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
        self.assertEqual(
            self.sample("hearth_tls_certificate_expiry_timestamp_seconds",
                        f'file="{self.certificate}"'),
            not_after.timestamp())

    def test_reloads_are_counted_by_result_with_the_last_ones_time(self):
        self.assertEqual(self.sample("hearth_last_reload_timestamp_seconds"), 0)
        before = math.floor(time.time())
        self.assertEqual(self.post("/v1/reload"), 200)
        found = samples(self.scrape())
        self.assertEqual(found[("hearth_reloads_total", 'result="ok"')], 1)
        self.assertEqual(found[("hearth_reloads_total", 'result="failed"')], 0)
        self.assertGreaterEqual(found[("hearth_last_reload_timestamp_seconds", "")], before)
        self.assertEqual(found[("hearth_last_reload_success", "")], 1)
        with open(self.config_path, "a") as config:
            config.write("relay = { port_min = ; };\n")  # a syntax error
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.post("/v1/reload")
        self.assertEqual(refused.exception.code, 422)
        found = samples(self.scrape())
        self.assertEqual(found[("hearth_reloads_total", 'result="ok"')], 1)
        self.assertEqual(found[("hearth_reloads_total", 'result="failed"')], 1)
        self.assertEqual(found[("hearth_last_reload_success", "")], 0)


class AllocationHistogramsTest(MetricsFixture):
    def test_setup_time_is_observed_once_per_allocation_made(self):
        self.allocations(4)
        found = samples(self.scrape())
        self.assertEqual(found[("hearth_allocation_setup_seconds_count", "")], 4)
        self.assertEqual(found[("hearth_allocation_setup_seconds_bucket", 'le="+Inf"')], 4)
        self.assertEqual(found[("hearth_allocations_created_total", "")], 4)
        # The embedded store answers at once: no setup took a second.
        self.assertEqual(found[("hearth_allocation_setup_seconds_bucket", 'le="1"')], 4)

    def test_duration_is_observed_as_allocations_end_and_rtp_free_ones_add_no_loss(self):
        clients = self.allocations(3)
        delete_allocation(self, clients[0])
        delete_allocation(self, clients[1])
        found = samples(self.scrape())
        self.assertEqual(found[("hearth_allocation_duration_seconds_count", "")], 2)
        self.assertLess(found[("hearth_allocation_duration_seconds_sum", "")], 60)
        self.assertEqual(found[("hearth_allocation_loss_ratio_count", "")], 0)
        self.assertEqual(found[("hearth_allocation_end_jitter_seconds_count", "")], 0)

    def test_loss_and_jitter_of_an_rtp_stream_are_observed_at_its_end(self):
        client = self.allocations(1)[0]
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sink.close)
        sink.bind(("127.0.0.1", 0))
        bound = client.request(harness.CHANNEL_BIND,
                               [(0x000C, struct.pack("!HH", 0x4000, 0)),
                                (0x0012, harness.xor_peer(*sink.getsockname()))])
        self.assertEqual(struct.unpack("!H", bound[0:2])[0], 0x0109)
        packets, lost = 100, {10, 11, 50, 70}
        for index in (i for i in range(packets) if i not in lost):
            # 48 kHz, 20 ms apart, each timestamp 10 ms off in turn: jitter near 20 ms.
            timestamp = index * 960 + (480 if index % 2 else -480)
            rtp = struct.pack("!BBHII", 0x80, 111, index, timestamp & 0xFFFFFFFF, 0xBEEF)
            client.transmit(struct.pack("!HH", 0x4000, len(rtp) + 100) + rtp + bytes(100))
            time.sleep(0.02)  # the stream's pace, not a synchronisation
        sink.settimeout(5)
        for _ in range(packets - len(lost)):  # all relayed: the statistics are complete
            sink.recv(2048)
        delete_allocation(self, client)
        found = samples(self.scrape())
        self.assertEqual(found[("hearth_allocation_loss_ratio_count", "")], 1)
        self.assertAlmostEqual(found[("hearth_allocation_loss_ratio_sum", "")], 4 / 100, places=6)
        self.assertEqual(found[("hearth_allocation_end_jitter_seconds_count", "")], 1)
        jitter = found[("hearth_allocation_end_jitter_seconds_sum", "")]
        self.assertGreater(jitter, 0.005)
        self.assertLess(jitter, 0.04)


class StoreMetricsTest(test_redis.RedisFixture):
    """The session store's round trips and errors, against a real redis-server."""

    def test_redis_round_trips_are_timed_and_the_exposition_passes_promtool(self):
        self.open_session()
        node = self.start_node("metrics-a")
        client = harness.DatagramTurnClient(node.port)
        self.addCleanup(client.close)
        client.allocate()
        text = self.admin(node, "/metrics")
        found = samples(text)
        # The connection's PING or AUTH, the allocation's check and reservation at least.
        self.assertGreaterEqual(found[("hearth_session_store_command_duration_seconds_count", "")], 2)
        self.assertEqual(found[("hearth_session_store_command_duration_seconds_bucket", 'le="+Inf"')],
                         found[("hearth_session_store_command_duration_seconds_count", "")])
        self.assertEqual(found[("hearth_session_store_errors_total", 'kind="error_reply"')], 0)
        promtool_check(self, text)

    def store_errors(self, node, kind):
        return samples(self.admin(node, "/metrics"))[
            ("hearth_session_store_errors_total", f'kind="{kind}"')]

    def test_an_error_answered_by_redis_is_counted_as_error_reply(self):
        node = self.start_node("metrics-b")
        self.assertEqual(self.store_errors(node, "error_reply"), 0)
        self.cli("SET", "hearth:session:s1", "not a hash")  # every command on it: WRONGTYPE
        self.cli("SADD", "hearth:sessions", "s1")
        client = harness.DatagramTurnClient(node.port)
        self.addCleanup(client.close)
        self.assertNotEqual(harness.error_code(client.allocate_answer()), 0)
        self.assertGreater(self.store_errors(node, "error_reply"), 0)

    def test_commands_while_redis_is_gone_are_counted_unanswered(self):
        node = self.start_node("metrics-c")
        before = self.store_errors(node, "unanswered")  # asked before it first connected
        self.stop_redis()
        deadline = time.monotonic() + 20  # the heartbeat asks within seconds
        while self.store_errors(node, "unanswered") == before and time.monotonic() < deadline:
            time.sleep(0.2)  # polling a counter: there is no event to await
        self.assertGreater(self.store_errors(node, "unanswered"), before)


if __name__ == "__main__":
    unittest.main()
