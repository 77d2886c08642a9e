"""The kernel fast path (relay/xdp) through a real hearthd: bound channels relayed by the
XDP program with every counter right, revocation cutting it at once, the same figures as
the userspace path for the same traffic, and a host that refuses the program relaying in
userspace as before.

Each test runs in a network namespace of its own (the program attaches to that
namespace's lo, generic mode), so tests beside it never share an interface."""

import ctypes
import json
import os
import socket
import struct
import subprocess
import time
import unittest

import harness

CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def enter_own_network(test):
    """Moves this thread into a new network namespace with lo up, and back at cleanup. The
    processes and sockets the test makes meanwhile live in it."""
    if os.geteuid() != 0:
        test.fail("needs root (a network namespace, CAP_BPF): ./test.sh runs as root")
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)

    def leave():
        if LIBC.setns(home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(home)

    if LIBC.unshare(CLONE_NEWNET) != 0:
        os.close(home)
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    test.addCleanup(leave)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # The program's route lookups need forwarding on (README "Kernel fast path"); in a
    # namespace of the test's own, with only lo, that changes nothing else.
    subprocess.run(["sysctl", "-q", "-w", "net.ipv4.conf.all.forwarding=1",
                    "net.ipv4.conf.lo.forwarding=1"], check=True)
    # Datagrams sent on lo carry no checksum yet (CHECKSUM_PARTIAL: the "hardware" would
    # fill it in), and the program updates checksums incrementally, as for datagrams from a
    # NIC, which always carry theirs. With TX checksumming off, lo's datagrams carry theirs
    # too, and the peer's kernel checks what the program wrote.
    subprocess.run(["ethtool", "-K", "lo", "tx", "off"], check=True, stdout=subprocess.DEVNULL)


def channel_data(number, payload):
    return struct.pack("!HH", number, len(payload)) + payload


def rtp(sequence, timestamp, size=100):
    return struct.pack("!BBHII", 0x80, 111, sequence & 0xFFFF, timestamp & 0xFFFFFFFF,
                       0x5EED) + bytes(size)


class FastPathCase(harness.AdminApi, harness.HearthTest):
    fast_path = 'fast_path = { interfaces = [ "lo" ]; mode = "generic"; };'
    channel = 0x4000

    def setUp(self):
        enter_own_network(self)
        self.extra_config = self.admin_config() + self.fast_path
        super().setUp()

    def allocation(self):
        (allocation,) = json.loads(self.admin("/v1/allocations"))["allocations"]
        return allocation

    def outcome(self, name):
        for line in self.admin("/metrics").splitlines():
            if line.startswith(f'hearth_fast_path_packets_total{{outcome="{name}"}}'):
                return int(float(line.split()[-1]))
        return 0

    def bind_channel(self):
        """A client with a channel to a peer socket; returns (client, peer, relayed)."""
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        relayed = client.allocate()
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(5)
        bound = client.request(harness.CHANNEL_BIND,
                               [(0x000C, struct.pack("!HH", self.channel, 0)),
                                (0x0012, harness.xor_peer(*peer.getsockname()))])
        self.assertEqual(struct.unpack("!H", bound[0:2])[0], 0x0109, "ChannelBind")
        return client, peer, relayed

    def exchange(self, client, peer, relayed, payloads):
        """Each payload to the peer and back, in lock step: nothing is lost on loopback."""
        for payload in payloads:
            client.transmit(channel_data(self.channel, payload))
            got, source = peer.recvfrom(2048)
            self.assertEqual(got, payload)
            self.assertEqual(source, relayed, "from the relayed address")
            peer.sendto(payload[::-1], relayed)
            self.assertEqual(client.sock.recv(2048), channel_data(self.channel, payload[::-1]))


class FastPathTest(FastPathCase):
    def test_a_bound_channel_is_carried_in_the_kernel_both_ways_and_counted(self):
        self.hearthd.wait_for_line("fast path on: XDP (generic) on lo")
        client, peer, relayed = self.bind_channel()
        payloads = [bytes([i % 251]) * (1 + i % 300) for i in range(200)]
        self.exchange(client, peer, relayed, payloads)
        allocation = self.allocation()
        up, down = allocation["client_to_peer"], allocation["peer_to_client"]
        size = sum(len(p) for p in payloads)
        self.assertEqual((up["packets"], up["bytes"]), (200, size))
        self.assertEqual((down["packets"], down["bytes"]), (200, size))
        # The first packet passed every check in userspace, which then handed the channel
        # over, both ways: every other packet went through the kernel.
        self.assertEqual(up["fast_path_packets"], 199)
        self.assertEqual(down["fast_path_packets"], 200)
        self.assertEqual(self.outcome("carried"), 399)
        self.assertEqual(self.metric("hearth_fast_path_allocations"), 1)

    def test_revoking_the_session_cuts_the_fast_path_at_once(self):
        client, peer, relayed = self.bind_channel()
        self.exchange(client, peer, relayed, [b"before"] * 20)
        carried = self.outcome("carried")
        self.assertEqual(carried, 39)
        dropped = self.metric('hearth_dropped_packets_total{reason="no_allocation"}')
        self.admin("/v1/sessions/s1/revoke", method="POST")  # answers once the workers did it
        for _ in range(50):
            client.transmit(channel_data(self.channel, b"after"))
            peer.sendto(b"after", relayed)
        # Every one of them reached hearthd, which has no allocation for them any more...
        self.wait_for_metric('hearth_dropped_packets_total{reason="no_allocation"}', dropped + 50)
        # ...and not one went through the kernel.
        self.assertEqual(self.outcome("carried"), carried)
        peer.setblocking(False)
        with self.assertRaises(BlockingIOError):
            peer.recv(2048)

    def wait_for_metric(self, sample, wanted):
        """Polls /metrics (bounded) until `sample` reaches `wanted`."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in self.admin("/metrics").splitlines():
                if line.startswith(sample + " ") and int(float(line.split()[-1])) >= wanted:
                    return
            time.sleep(0.05)  # the polling pace
        self.fail(f"{sample} never reached {wanted}")


class WildcardListenerTest(FastPathCase):
    """The shipped listener is 0.0.0.0: the program learns which address the client sends
    to from its first carried packet, and only then wraps the peer's replies."""
    listen_host = "0.0.0.0"

    def test_the_peers_replies_wait_for_the_clients_address_then_go_through_the_kernel(self):
        client, peer, relayed = self.bind_channel()
        self.exchange(client, peer, relayed, [b"x" * 40] * 50)
        allocation = self.allocation()
        self.assertEqual(allocation["client_to_peer"]["fast_path_packets"], 49)
        # The first reply came before any carried client packet told the program the
        # address: userspace wrapped it.
        self.assertEqual(allocation["peer_to_client"]["fast_path_packets"], 49)
        self.assertEqual(allocation["peer_to_client"]["packets"], 50)
        self.assertEqual(self.outcome("passed_no_server_ip"), 1)


class SameFiguresTest(FastPathCase):
    """The same RTP traffic through the fast path and through userspace gives the same
    counters and the same RFC 3550 figures (jitter aside: it depends on arrival times)."""
    LOST = {7, 8, 40, 99}

    def run_rtp(self):
        client, peer, relayed = self.bind_channel()
        order = [i for i in range(150) if i not in self.LOST]
        for index in order:
            packet = rtp(1000 + index, index * 960, size=60 + index % 40)
            client.transmit(channel_data(self.channel, packet))
            self.assertEqual(peer.recv(2048), packet)
            peer.sendto(packet, relayed)
            self.assertEqual(client.sock.recv(2048), channel_data(self.channel, packet))
            # The stream's pace, not a synchronisation: the clock rate, and so the jitter,
            # is measured over the first second (relay/turn/media_stats.h).
            time.sleep(0.01)
        return self.allocation()

    def figures(self, allocation):
        keep = ("packets", "bytes", "dropped")
        return {direction: ({k: v for k, v in allocation[direction].items() if k in keep},
                            {k: v for k, v in allocation[direction]["rtp"].items()
                             if k != "jitter_ms"})
                for direction in ("client_to_peer", "peer_to_client")}

    def test_counters_and_rtp_figures_match_the_userspace_path(self):
        fast = self.run_rtp()
        self.assertGreater(fast["client_to_peer"]["fast_path_packets"], 140)
        self.assertEqual(fast["client_to_peer"]["rtp"]["lost"], len(self.LOST))
        self.assertGreater(fast["client_to_peer"]["rtp"]["jitter_ms"], 0)
        self.assertGreater(fast["peer_to_client"]["rtp"]["jitter_ms"], 0)
        stop_first = self.hearthd.stop()
        self.assertEqual(stop_first, 0, self.hearthd.output())
        with open(self.config_path) as config:
            text = config.read().replace(self.fast_path, "")
        with open(self.config_path, "w") as config:
            config.write(text)
        self.hearthd = harness.Process([harness.HEARTHD, "--config", self.config_path],
                                       "hearthd (userspace)", harness.signal.SIGINT)
        self.addCleanup(harness.stop_cleanly, self, self.hearthd)
        self.hearthd.wait_for_line("hearthd ready:")
        slow = self.run_rtp()
        self.assertEqual(slow["client_to_peer"]["fast_path_packets"], 0)
        self.assertGreater(slow["client_to_peer"]["rtp"]["jitter_ms"], 0)
        self.assertEqual(self.figures(fast), self.figures(slow))


class BudgetTest(FastPathCase):
    """The bandwidth budget holds in the kernel too: the program spends only bytes granted
    from the allocation's bucket, then hands packets to hearthd, which drops them."""
    fast_path = FastPathCase.fast_path + (
        " limits = { allocation_bandwidth_bps = 80000; session_bandwidth_bps = 0; };")

    def test_a_burst_past_the_budget_is_cut_at_the_bucket(self):
        client, peer, relayed = self.bind_channel()
        # One datagram there and back first: on lo the program sees each datagram as it is
        # sent, so the channel must be handed over before the burst.
        self.exchange(client, peer, relayed, [bytes(100)])
        started = time.monotonic()
        for _ in range(99):
            client.transmit(channel_data(self.channel, bytes(500)))
        sending = time.monotonic() - started
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            up = self.allocation()["client_to_peer"]
            if up["packets"] + up["dropped"]["bandwidth"] == 100:
                break
            time.sleep(0.05)  # the polling pace
        # 80 kbit/s holds half a second, 5000 bytes (100 of them spent), and earns 10 bytes
        # a millisecond: nine datagrams, and what it earned while the loop sent (and one
        # 20 ms top-up after), against 99 without a budget.
        self.assertEqual(up["packets"] + up["dropped"]["bandwidth"], 100, up)
        earned = 10_000 * (sending + 0.04)
        self.assertLessEqual(up["packets"], 1 + (4900 + earned) // 500, (up, sending))
        self.assertGreater(up["fast_path_packets"], 0, up)
        received = 0
        peer.setblocking(False)
        try:
            while True:
                peer.recv(2048)
                received += 1
        except BlockingIOError:
            pass
        self.assertEqual(received, up["packets"] - 1)  # the first one was read above


class NoSuchInterfaceTest(FastPathCase):
    fast_path = 'fast_path = { interfaces = [ "hearth-none0" ]; mode = "generic"; };'

    def test_says_so_once_and_relays_in_userspace(self):
        self.hearthd.wait_for_line(
            "fast path off, relaying in userspace: no interface hearth-none0")
        client, peer, relayed = self.bind_channel()
        self.exchange(client, peer, relayed, [b"userspace"] * 10)
        self.assertEqual(self.allocation()["client_to_peer"]["packets"], 10)
        self.assertEqual(self.allocation()["client_to_peer"]["fast_path_packets"], 0)
        self.assertEqual(self.hearthd.output().count("fast path off"), 1)


class DropInCapabilitiesTest(FastPathCase):
    """Exactly what systemd/fast-path.conf grants (with the unit's CAP_NET_BIND_SERVICE)
    is enough: the drop-in's claim, checked."""
    launcher = ("setpriv", "--inh-caps=-all",
                "--bounding-set=-all,+bpf,+perfmon,+net_admin,+net_bind_service")

    def test_the_program_loads_and_carries(self):
        self.hearthd.wait_for_line("fast path on: XDP (generic) on lo")
        client, peer, relayed = self.bind_channel()
        self.exchange(client, peer, relayed, [b"kernel"] * 10)
        self.assertEqual(self.allocation()["client_to_peer"]["fast_path_packets"], 9)


class WithoutPerfmonTest(FastPathCase):
    """CAP_BPF alone does not do: the verifier wants CAP_PERFMON for the program's packet
    pointer arithmetic."""
    launcher = ("setpriv", "--inh-caps=-all",
                "--bounding-set=-all,+bpf,+net_admin,+net_bind_service")

    def test_says_so_once_and_relays_in_userspace(self):
        self.hearthd.wait_for_line("fast path off, relaying in userspace:")
        client, peer, relayed = self.bind_channel()
        self.exchange(client, peer, relayed, [b"userspace"] * 10)
        self.assertEqual(self.allocation()["client_to_peer"]["fast_path_packets"], 0)


class WithoutBpfTest(FastPathCase):
    """A host (or a unit) that does not grant CAP_BPF: the program cannot load."""
    launcher = ("setpriv", "--inh-caps=-bpf,-sys_admin,-perfmon",
                "--bounding-set=-bpf,-sys_admin,-perfmon")

    def test_says_so_once_and_relays_in_userspace(self):
        self.hearthd.wait_for_line("fast path off, relaying in userspace:")
        client, peer, relayed = self.bind_channel()
        self.exchange(client, peer, relayed, [b"userspace"] * 10)
        self.assertEqual(self.allocation()["client_to_peer"]["fast_path_packets"], 0)
        self.assertEqual(self.outcome("carried"), 0)


if __name__ == "__main__":
    unittest.main()
