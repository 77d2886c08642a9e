"""The kernel fast path between namespaces, as on a host with network cards: hearthd in
the relay namespace with the XDP program attached natively to both of its veth ends, a
client and a peer behind them. The relay forwards nothing itself (a firewall drops every
forwarded packet, as README "Kernel fast path" advises), so whatever reaches the peer went
through hearthd or its program; the counters must say the program carried nearly all of
it and match, packet for packet, what coturn's uclient sent and got back."""

import re
import shutil
import unittest

import harness
import namespaces
from test_namespaces import CLIENTS, LIMITS, MESSAGES

UCLIENT = shutil.which("turnutils_uclient")
# The program's route lookups need forwarding on; this firewall keeps the kernel itself
# from forwarding anything (XDP redirects pass no netfilter hook).
NO_FORWARDING = """
table inet hearth_test {
    chain forward { type filter hook forward priority 0; policy drop; }
}
"""


class VethFastPathTest(unittest.TestCase):
    def setUp(self):
        if UCLIENT is None:
            self.fail("turnutils_uclient is missing: run ./test.sh (it installs coturn)")
        if shutil.which("nft") is None:
            self.fail("nft is missing: run ./test.sh (it installs nftables)")
        topology = self.topology = namespaces.RelayTopology.for_test(self)
        ruleset = topology.directory + "/no-forwarding.nft"
        with open(ruleset, "w") as rules:
            rules.write(NO_FORWARDING)
        done = topology.call(topology.relay, ["nft", "-f", ruleset], timeout=10)
        self.assertEqual(done.returncode, 0, done.stderr)
        for family in ("ipv4", "ipv6"):
            topology.sysctl(topology.relay, f"net.{family}.conf.all.forwarding", 1)
        # A veth takes frames redirected into it (XDP_REDIRECT, ndo_xdp_xmit) only when its
        # other end runs NAPI: an XDP program there, or GRO on. A network card needs neither.
        for namespace in (topology.client, topology.peer):
            done = topology.call(namespace, ["ethtool", "-K", "to-relay", "gro", "on"])
            self.assertEqual(done.returncode, 0, done.stderr)
        self.admin_port = 9478
        extra = (LIMITS + f' admin = {{ listen = "127.0.0.1:{self.admin_port}"; '
                 f'token = "{harness.AdminApi.admin_token}"; }};'
                 # "auto": the interface holding relay.ipv4 and .ipv6 (to-peer); clients
                 # arrive on another, named.
                 ' fast_path = { interfaces = [ "auto", "to-client" ]; mode = "native"; };')
        self.hearthd = topology.start_hearthd(self, topology.relay,
                                              topology.hearthd_config(ipv6=True, extra=extra))
        self.hearthd.wait_for_line("fast path on: XDP (native) on to-client, to-peer")
        self.peer_port = 3480
        for host in (topology.peer_side.ipv4, topology.peer_side.ipv6):
            topology.start_peer(self, topology.peer, host, self.peer_port)

    def metrics(self):
        return self.topology.metrics(self.topology.relay, self.admin_port)

    def uclient(self, server, peer, *options):
        username, password = harness.mint("s1", "alice")
        argv = [UCLIENT, "-p", namespaces.TURN_PORT, "-u", username, "-w", password,
                "-e", peer, "-r", self.peer_port, "-n", MESSAGES, "-m", CLIENTS, "-l", "160",
                "-z", "5", "-c", *options, server]
        result = self.topology.call(self.topology.client, argv, timeout=60)
        output = result.stdout + result.stderr
        totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output)
        lost = re.findall(r"Total lost packets (\d+)", output)
        self.assertTrue(totals and lost, output)
        self.assertEqual(int(totals[-1][0]), MESSAGES * CLIENTS, output)
        self.assertEqual(int(totals[-1][1]), MESSAGES * CLIENTS, output)
        self.assertEqual(int(lost[-1]), 0, output)

    def assert_carried(self):
        """Every packet counted once, most by the program: what uclient sent to the peer
        and what came back, exactly (uclient's channels carry nothing else). Those before
        a channel is handed over (its first, and any sent while hearthd had not read it
        yet: uclient sends every 5 ms) and any before the relay knew the peer's link
        address went through userspace."""
        # uclient's clients end with Refresh 0: their allocations' counters are in the
        # node's totals once the last is gone.
        self.hearthd.wait_for_lines("reason=client request", CLIENTS)
        metrics = self.metrics()
        for direction in ("client_to_peer", "peer_to_client"):
            labels = f'{{direction="{direction}",transport="udp"}}'
            relayed = metrics[f"hearth_relayed_packets_total{labels}"]
            carried = metrics[f"hearth_fast_path_relayed_packets_total{labels}"]
            self.assertEqual(relayed, MESSAGES * CLIENTS, direction)
            self.assertGreaterEqual(carried, relayed / 2, direction)

    def test_uclient_over_ipv4_channels_through_the_kernel(self):
        self.uclient(self.topology.relay_client_side.ipv4, self.topology.peer_side.ipv4)
        self.assert_carried()

    def test_uclient_over_ipv6_channels_through_the_kernel(self):
        self.uclient(self.topology.relay_client_side.ipv6, self.topology.peer_side.ipv6, "-x")
        self.assert_carried()


if __name__ == "__main__":
    unittest.main()
