"""File descriptors run out: allocations past what RLIMIT_NOFILE allows get 508 from the
derived cap, a relay socket that cannot be opened gets 508, accepting (by the listeners and
by RFC 6062 relayed addresses) pauses instead of spinning, and everything works again once
descriptors are free."""

import re
import socket
import struct
import unittest

import harness


class DescriptorExhaustionTest(harness.HearthTest):
    descriptor_limit = 160
    relay_extra = harness.TCP_ALLOCATIONS  # a relayed TCP address pauses accepting too
    extra_config = """
limits = { max_connections_per_source = 1000; max_allocations_per_user = 1000;
           unauthenticated_requests_per_second = 1000;
           allocate_requests_per_second = 1000; };
"""

    def derived_cap(self):
        line = self.hearthd.wait_for_line("lowered to")
        return int(re.search(r"lowered to (\d+)", line).group(1))

    def test_the_descriptor_limit_caps_allocations_with_508(self):
        cap = self.derived_cap()
        self.assertGreater(cap, 0)
        self.assertLess(cap, 160 // 2)
        clients = []
        self.addCleanup(lambda: [client.close() for client in clients])
        for _ in range(cap):
            clients.append(harness.DatagramTurnClient(self.port))
            clients[-1].allocate()
        clients.append(harness.DatagramTurnClient(self.port))
        self.assertEqual(harness.error_code(clients[-1].allocate_answer()), 508)

    def skip_under_ubsan(self):
        with open(f"/proc/{self.hearthd.process.pid}/maps") as maps:
            if "libubsan" in maps.read():
                # UBSan's vptr check makes a pipe to see that an object is readable; with
                # no descriptor left it reports every virtual call as "invalid vptr". The
                # plain build runs this test; the sanitizer build cannot.
                self.skipTest("UBSan cannot check virtual calls without file descriptors")

    def take_every_descriptor(self, mark):
        """Idle TCP connections take hearthd's descriptors one by one; bounded well past
        the limit, and stopped as soon as hearthd says it ran out. Returns the sockets."""
        held = []
        self.addCleanup(lambda: [sock.close() for sock in held])
        for _ in range(400):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(5)
            try:
                sock.connect(("127.0.0.1", self.port))
            except TimeoutError:
                # The listen backlog is full: hearthd stopped accepting before its log line
                # reached this process. The wait below checks that it says why.
                sock.close()
                break
            held.append(sock)
            if any("out of file descriptors" in line for line in self.hearthd.lines[mark:]):
                break
        self.hearthd.wait_for_line("out of file descriptors", since=mark)
        return held

    def test_out_of_descriptors_answers_508_and_accepting_resumes(self):
        self.skip_under_ubsan()
        mark = self.hearthd.mark()
        held = self.take_every_descriptor(mark)

        starved = harness.DatagramTurnClient(self.port)
        self.addCleanup(starved.close)
        self.assertEqual(harness.error_code(starved.allocate_answer()), 508)

        for sock in held:
            sock.close()
        held.clear()
        # The connections still in the backlog are accepted (and end) once hearthd has
        # closed the others: accepting resumed by itself.
        self.hearthd.wait_for_line("resumed", since=mark)
        stream = harness.StreamTurnClient(self.port)
        self.addCleanup(stream.close)
        self.assertEqual(stream.allocate()[0], "127.0.0.1")
        datagram = harness.DatagramTurnClient(self.port)
        self.addCleanup(datagram.close)
        self.assertEqual(datagram.allocate()[0], "127.0.0.1")

    def test_a_relayed_tcp_address_pauses_accepting_peers_and_resumes(self):
        self.skip_under_ubsan()
        control = harness.StreamTurnClient(self.port)
        self.addCleanup(control.close)
        relayed = control.allocate(protocol=6)
        control.permit("127.0.0.1", 1)
        mark = self.hearthd.mark()
        held = self.take_every_descriptor(mark)

        # The peer's connection waits in the relayed address's backlog: hearthd cannot
        # accept it, and must say so once instead of trying again at once for ever.
        peer = socket.create_connection(relayed, timeout=10)
        self.addCleanup(peer.close)
        self.hearthd.wait_for_line("accept on relayed addresses paused", since=mark)

        for sock in held:
            sock.close()
        self.hearthd.wait_for_line("accept on relayed addresses resumed", since=mark)
        attempt = harness.read_stun_from_stream(control.sock)
        self.assertEqual(struct.unpack("!H", attempt[0:2])[0], 0x001C)  # ConnectionAttempt


class FewStreamConnectionsTest(harness.HearthTest):
    """With few stream connections allowed, their descriptors are all that is set aside:
    each allocation then costs one descriptor, its relay socket, and more than half of
    the limit goes to allocations (a UDP-only node holds about twice as many)."""
    descriptor_limit = 140  # the cap stays under the test session's allocation_cap (64)
    extra_config = """
limits = { max_connections = 8; max_allocations_per_user = 1000;
           unauthenticated_requests_per_second = 1000;
           allocate_requests_per_second = 1000; };
"""

    def test_allocations_take_one_descriptor_each(self):
        line = self.hearthd.wait_for_line("lowered to")
        cap = int(re.search(r"lowered to (\d+)", line).group(1))
        # 64 of the 140 are headroom; at two descriptors an allocation the cap could not
        # pass half of the rest, at one it passes it while hearthd has under 30 open.
        self.assertGreater(cap, (140 - 64) // 2)
        clients = []
        self.addCleanup(lambda: [client.close() for client in clients])
        for _ in range(cap):
            clients.append(harness.DatagramTurnClient(self.port))
            self.assertEqual(clients[-1].allocate()[0], "127.0.0.1")
        clients.append(harness.DatagramTurnClient(self.port))
        self.assertEqual(harness.error_code(clients[-1].allocate_answer()), 508)


if __name__ == "__main__":
    unittest.main()
