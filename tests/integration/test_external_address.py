"""relay.external_ipv4 behind a 1:1 NAT: hearthd binds the private address (relay.ipv4)
and gives clients the public one, in XOR-RELAYED-ADDRESS and in the turn: URLs it mints;
data still flows through the private address. A relay address the host does not have is
refused at start, not answered with 508 on every Allocate."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness
import namespaces

# TEST-NET-3 (RFC 5737): never an address of this host, as a cloud VM's public IP is not.
PUBLIC = namespaces.CloudNatTopology.PUBLIC
UCLIENT = shutil.which("turnutils_uclient")


class ExternalAddressTest(harness.AdminApi, harness.HearthTest):
    relay_ports = (47000, 47999)
    relay_extra = f'external_ipv4 = "{PUBLIC}";'

    def setUp(self):
        self.extra_config = self.admin_config()
        super().setUp()

    def test_allocate_tells_the_public_address_and_data_flows_through_the_private_one(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        host, port = client.allocate()
        self.assertEqual(host, PUBLIC)
        self.assertTrue(self.relay_ports[0] <= port <= self.relay_ports[1], port)

        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(peer.close)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(10)
        client.permit(*peer.getsockname())
        # What the NAT would deliver: the peer's datagram to the public address arrives at
        # the private one, same port.
        peer.sendto(b"through the nat", ("127.0.0.1", port))
        self.assertEqual(harness.data_indication(client.sock.recv(2048)),
                         (peer.getsockname(), b"through the nat"))
        # And the other way: the peer sees the private address it sent to.
        client.send_indication(*peer.getsockname(), b"back")
        self.assertEqual(peer.recvfrom(64), (b"back", ("127.0.0.1", port)))

    def test_minted_urls_name_the_public_address(self):
        minted = json.loads(self.admin("/v1/credentials?session=s1&user=bob", method="POST"))
        self.assertIn(f"turn:{PUBLIC}:{self.port}?transport=udp", minted["urls"])


class UnboundRelayAddressTest(unittest.TestCase):
    """relay.ipv4 set to the public address of a 1:1 NAT, which the host does not have."""

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.config_path = os.path.join(directory.name, "hearth.conf")
        text = harness.config_text(harness.free_port(), (47000, 47999))
        with open(self.config_path, "w") as config:
            config.write(text.replace('ipv4 = "127.0.0.1"', f'ipv4 = "{PUBLIC}"'))

    def test_check_config_refuses_it(self):
        checked = subprocess.run([harness.HEARTHD, "--check-config", "--config", self.config_path],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(checked.returncode, 1, checked.stdout)
        self.assertIn(f"cannot relay from {PUBLIC} (relay.ipv4)", checked.stderr)
        self.assertIn("relay.external_ipv4", checked.stderr)

    def test_the_daemon_refuses_to_start(self):
        hearthd = harness.Process([harness.HEARTHD, "--config", self.config_path], "hearthd")
        self.addCleanup(hearthd.stop)
        self.assertEqual(hearthd.process.wait(timeout=20), 1)
        line = hearthd.wait_for_line(f"cannot relay from {PUBLIC} (relay.ipv4)")
        self.assertIn("not an address of this host", line)
        self.assertNotIn("hearthd ready", hearthd.output())


class CloudNatTest(unittest.TestCase):
    """A real 1:1 NAT (namespaces.CloudNatTopology): hearthd in the VM's namespace with
    only the private address, clients and their peer on the internet side reaching it at
    PUBLIC alone. What clients are told is what the NAT makes true."""

    def setUp(self):
        self.topology = namespaces.CloudNatTopology.for_test(self)
        self.hearthd = self.topology.start_hearthd(
            self, self.topology.vm, self.topology.hearthd_config(extra=(
                "limits = { allocate_requests_per_second = 0; };")))
        self.peer_host = self.topology.internet_side.ipv4

    def test_the_peer_sees_the_public_address_the_client_was_told(self):
        topology = self.topology
        peer = topology.socket(topology.internet)
        self.addCleanup(peer.close)
        peer.bind((self.peer_host, 0))
        peer.settimeout(10)
        sock = topology.socket(topology.internet)
        sock.settimeout(10)
        client = harness.DatagramTurnClient(namespaces.TURN_PORT, PUBLIC, sock=sock)
        self.addCleanup(client.close)
        relayed = client.allocate()
        self.assertEqual(relayed[0], PUBLIC)
        client.permit(*peer.getsockname())
        client.send_indication(*peer.getsockname(), b"from the vm")
        self.assertEqual(peer.recvfrom(64), (b"from the vm", relayed))
        # The peer answers the address it saw; the NAT carries it to the private one.
        peer.sendto(b"to the public address", relayed)
        data = client.sock.recv(2048)
        attributes = {kind: value for kind, value, _ in harness.attributes(data)}
        self.assertEqual(attributes[0x0013], b"to the public address")

    def test_two_clients_reach_each_other_at_the_public_address_and_nothing_else_of_the_vm(self):
        # Both ends of a call behind symmetric NATs, relayed by this node: each one's peer
        # is the other's relayed address as told, PUBLIC, in a range the policy refuses
        # (TEST-NET-3). The NAT turns the datagram back to the VM (hairpin) from PUBLIC.
        topology = self.topology
        # Services of the VM, bound before any allocation: one on a port of the relayed
        # range (as a co-located media server would be), one outside it.
        services = []
        for ports in (range(20999, 20000, -1), (8080, 8081, 8082)):
            service = topology.socket(topology.vm)
            self.addCleanup(service.close)
            for port in ports:
                try:
                    service.bind((topology.vm_side.ipv4, port))
                    break
                except OSError:
                    continue
            else:
                self.fail(f"no free port for a VM service among {ports}")
            services.append(service)
        clients = []
        for user in ("alice", "bob"):
            sock = topology.socket(topology.internet)
            sock.settimeout(10)
            client = harness.DatagramTurnClient(namespaces.TURN_PORT, PUBLIC, sock=sock,
                                                user=user)
            self.addCleanup(client.close)
            clients.append((client, client.allocate()))
        (alice, alice_relayed), (bob, bob_relayed) = clients
        self.assertEqual((alice_relayed[0], bob_relayed[0]), (PUBLIC, PUBLIC))
        alice.permit(*bob_relayed)
        bob.permit(*alice_relayed)
        for sender, receiver, sender_relayed, receiver_relayed in (
                (alice, bob, alice_relayed, bob_relayed), (bob, alice, bob_relayed, alice_relayed)):
            sender.send_indication(*receiver_relayed, b"through the nat and back")
            self.assertEqual(harness.data_indication(receiver.sock.recv(2048)),
                             (sender_relayed, b"through the nat and back"))
        # The VM's services at the public address: refused by CreatePermission, and a Send
        # under alice's permission for PUBLIC (for its every port, RFC 8656 §9) dropped.
        for service in services:
            port = service.getsockname()[1]
            transaction_id = os.urandom(12)
            answer = alice.request(harness.CREATE_PERMISSION,
                                   [(0x0012, harness.xor_peer(PUBLIC, port, transaction_id))],
                                   transaction_id)
            self.assertEqual(harness.error_code(answer), 403, port)
            alice.send_indication(PUBLIC, port, b"must not arrive")
        # One more to bob, the same way through the NAT: once it is there, so would be
        # anything relayed to the services before it.
        alice.send_indication(*bob_relayed, b"after")
        self.assertEqual(harness.data_indication(bob.sock.recv(2048)), (alice_relayed, b"after"))
        for service in services:
            with self.assertRaises(BlockingIOError):
                service.recv(64, socket.MSG_DONTWAIT)

    def test_uclient_relays_through_the_nat_over_udp_and_tcp(self):
        if UCLIENT is None:
            self.fail("turnutils_uclient is missing: run ./test.sh (it installs coturn)")
        self.topology.start_peer(self, self.topology.internet, self.peer_host)
        for transport in ((), ("-t",)):
            with self.subTest(transport=transport or "udp"):
                username, password = harness.mint("s1", "alice")
                argv = [UCLIENT, *transport, "-p", namespaces.TURN_PORT, "-u", username,
                        "-w", password, "-e", self.peer_host, "-r", 3480, "-n", 100,
                        "-m", 2, "-l", 160, "-z", 5, "-c", "-v", PUBLIC]
                result = self.topology.call(self.topology.internet, argv, timeout=60)
                output = result.stdout + result.stderr
                relayed = set(re.findall(r"Received relay addr: ([0-9.]+):", output))
                self.assertEqual(relayed, {PUBLIC}, output)
                totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", output)
                lost = re.findall(r"Total lost packets (\d+)", output)
                self.assertTrue(totals and lost, output)
                self.assertEqual(totals[-1], ("200", "200"), output)
                self.assertEqual(lost[-1], "0", output)


if __name__ == "__main__":
    unittest.main()
