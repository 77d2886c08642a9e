"""hearth-load --bounce, the load turned around in XDP on its end of a veth pair, against a
real hearthd in a relay namespace (with its fast path and without), and against the
reflector that stands for a relay that costs nothing. bench/saturation.py builds its
figures on these runs, so what they report has to be what the relay did: every datagram
the load handed to hearthd is one hearthd counted as relayed, none is lost, and the XDP
program hearth-load found on its interface is there again when it is done."""

import json
import os
import signal
import time
import unittest

import harness
import namespaces

HEARTH_LOAD = os.environ.get("HEARTH_LOAD")
ALLOCATIONS = 10
IN_FLIGHT = 2
# One user's ten allocations, set up at once, and as much bandwidth as goes round: the
# default budgets (10 Mbit/s an allocation) would drop the packets after a few hundred turns.
LIMITS = ("limits = { max_allocations_per_user = 100; allocate_requests_per_second = 0; "
          "upkeep_requests_per_second = 0; allocation_bandwidth_bps = 0; "
          "session_bandwidth_bps = 0; };")


class LoadBounceTest(unittest.TestCase):
    def setUp(self):
        if not HEARTH_LOAD:
            self.fail("HEARTH_LOAD must name the hearth-load binary (ctest sets it)")
        self.topology = namespaces.RelayTopology.for_test(self)
        # The load runs in the client namespace; its echo peer sits beside its clients.
        self.load_end = self.topology.client_side
        self.server = self.topology.relay_client_side

    def start_hearthd(self, fast_path):
        topology = self.topology
        self.admin_port = 9478
        extra = (LIMITS + f' admin = {{ listen = "127.0.0.1:{self.admin_port}"; '
                 f'token = "{harness.AdminApi.admin_token}"; }};')
        if fast_path:
            # The program's route lookups need forwarding on; the load's peer is on the
            # clients' side, so what the program carries leaves by the end it came in.
            topology.sysctl(topology.relay, "net.ipv4.conf.all.forwarding", 1)
            extra += ' fast_path = { interfaces = [ "to-client" ]; mode = "native"; };'
        else:
            # What the bounce sends back (XDP_TX) is taken in only by a veth end that runs
            # NAPI. An XDP program turns it on: hearth's own, loaded by no hearthd, has no
            # channel in its maps and passes everything, as in bench/saturation.py. (GRO
            # on also turns NAPI on, but then each datagram sent back waited most of a
            # second here, Linux 6.18.)
            program = os.path.join(os.path.dirname(os.path.dirname(harness.HEARTHD)), "relay",
                                   "xdp", "fast_path.bpf.o")
            namespaces.ip("link", "set", "dev", self.server.name, "xdpdrv", "obj", program,
                          "sec", "xdp", namespace=self.server.namespace)
        # Full checksums from hearthd's sockets, which the bounce sends back unchanged.
        self.relay_ethtool("tx", "off")
        config = topology.hearthd_config(extra=extra,
                                         allow_peers=(f"10.{topology.subnet}.1.0/24",))
        self.hearthd = topology.start_hearthd(self, topology.relay, config)

    def relay_ethtool(self, feature, value):
        done = self.topology.call(self.topology.relay,
                                  ["ethtool", "-K", self.server.name, feature, value])
        self.assertEqual(done.returncode, 0, done.stderr)

    def load(self, *arguments):
        result = self.topology.call(self.topology.client, [
            HEARTH_LOAD, "--bounce", self.load_end.name, "--allocations", str(ALLOCATIONS),
            "--in-flight", str(IN_FLIGHT), "--payload", "160", "--duration", "1", "--json",
            *arguments], timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def load_through_hearthd(self):
        return self.load("--server", f"{self.server.ipv4}:{namespaces.TURN_PORT}", "--secret",
                         harness.SECRET, "--session", "s1", "--user", "alice")

    def metrics(self):
        return self.topology.metrics(self.topology.relay, self.admin_port)

    def relayed(self, family="hearth_relayed_packets_total"):
        """What hearthd relayed each way, once every allocation of the run has ended
        (hearth-load ends them with Refresh 0), so the node's totals hold them all."""
        self.hearthd.wait_for_lines("reason=client request", ALLOCATIONS)
        metrics = self.metrics()
        return [metrics.get(f'{family}{{direction="{direction}",transport="udp"}}', 0)
                for direction in ("client_to_peer", "peer_to_client")]

    def assert_every_datagram_relayed(self, report):
        """Every packet started was still going round at the end, and hearthd counted every
        datagram the load handed it (the first ones and every turn) as relayed, to the peer
        or back."""
        self.assertEqual(report["sent"], ALLOCATIONS * IN_FLIGHT, report)
        self.assertEqual(report["lost"], 0, report)
        self.assertGreater(report["relayed_packets"], 1000, report)
        self.assertEqual(sum(self.relayed()), report["handed_to_relay"], report)
        self.assertGreater(report["window_machine_busy_seconds"], 0, report)
        self.assertGreater(report["latency_us"]["p99"], 0, report)

    def xdp_program_id(self):
        details = json.loads(namespaces.ip("-j", "link", "show", "dev", self.load_end.name,
                                           namespace=self.load_end.namespace))[0]
        return details.get("xdp", {}).get("prog", {}).get("id")

    def test_every_packet_goes_round_hearthds_fast_path_and_is_counted(self):
        self.start_hearthd(fast_path=True)
        report = self.load_through_hearthd()
        self.assert_every_datagram_relayed(report)
        # The program carried most: not the first of each channel's packets (which hand the
        # channel over), nor what went round through hearthd until it had.
        carried = sum(self.relayed("hearth_fast_path_relayed_packets_total"))
        self.assertGreater(carried, 0.5 * report["sent"], report)

    def test_every_packet_goes_round_hearthd_in_userspace_and_is_counted(self):
        self.start_hearthd(fast_path=False)
        report = self.load_through_hearthd()
        self.assert_every_datagram_relayed(report)
        self.assertEqual(sum(self.relayed("hearth_fast_path_relayed_packets_total")), 0)

    def test_the_program_it_found_is_put_back_and_none_is_left(self):
        self.start_hearthd(fast_path=False)
        self.assertIsNone(self.xdp_program_id())
        self.load_through_hearthd()
        self.assertIsNone(self.xdp_program_id())
        reflector = os.path.join(os.path.dirname(HEARTH_LOAD), "load_reflector.bpf.o")
        namespaces.ip("link", "set", "dev", self.load_end.name, "xdpdrv", "obj", reflector,
                      "sec", "xdp", namespace=self.load_end.namespace)
        found = self.xdp_program_id()
        self.assertIsNotNone(found)
        self.load_through_hearthd()
        self.assertEqual(self.xdp_program_id(), found)

    def test_the_reflector_stands_for_a_relay_that_costs_nothing(self):
        """No hearthd: the reflector on the relay's end sends every ChannelData datagram
        straight back; each of its turns counts as two legs, as through a relay."""
        reflector = os.path.join(os.path.dirname(HEARTH_LOAD), "load_reflector.bpf.o")
        namespaces.ip("link", "set", "dev", self.server.name, "xdpdrv", "obj", reflector, "sec",
                      "xdp", namespace=self.server.namespace)
        report = self.load("--raw", "--server", f"{self.server.ipv4}:{namespaces.TURN_PORT}")
        self.assertEqual(report["sent"], ALLOCATIONS * IN_FLIGHT, report)
        self.assertEqual(report["lost"], 0, report)
        self.assertGreater(report["relayed_packets"], 1000, report)
        self.assertGreater(report["latency_us"]["p99"], 0, report)

    def test_bounce_options_that_cannot_work_are_refused_in_one_line(self):
        for arguments, error in (
                (["--bounce", self.load_end.name, "--transport", "tcp"],
                 "--bounce turns ChannelData over UDP"),
                (["--bounce", self.load_end.name, "--server", "[::1]:3478"],
                 "--bounce is IPv4 only"),
                (["--in-flight", "4"], "--in-flight goes with --bounce"),
                (["--bounce", ""], "bad value for --bounce")):
            result = self.topology.call(self.topology.client,
                                        [HEARTH_LOAD, "--secret", "x", *arguments])
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(error, result.stderr)

    def test_a_stopped_run_puts_the_program_back(self):
        """SIGTERM in the middle of the window: hearth-load ends through its cleanup, the
        interface has no program left, and hearthd's allocations are released."""
        self.start_hearthd(fast_path=False)
        process = self.topology.run(self.topology.client, [
            HEARTH_LOAD, "--bounce", self.load_end.name, "--allocations", str(ALLOCATIONS),
            "--in-flight", str(IN_FLIGHT), "--duration", "60", "--json", "--server",
            f"{self.server.ipv4}:{namespaces.TURN_PORT}", "--secret", harness.SECRET,
            "--session", "s1", "--user", "alice"])
        # The bounce program attached: the run is under way.
        deadline = time.monotonic() + 30
        while self.xdp_program_id() is None:
            self.assertLess(time.monotonic(), deadline, "hearth-load never attached")
            time.sleep(0.02)  # polling the interface's state, bounded above
        process.process.send_signal(signal.SIGTERM)
        self.assertEqual(process.process.wait(timeout=30), 1)
        process.wait_for_line("hearth-load: stopped by Terminated")
        self.assertIsNone(self.xdp_program_id())
        self.hearthd.wait_for_lines("reason=client request", ALLOCATIONS)


if __name__ == "__main__":
    unittest.main()
