"""Worker threads: pinned one per CPU on request (pin_workers); and a second hearthd on
the same addresses refused."""

import os
import socket
import unittest

import harness


class PinnedWorkersTest(harness.HearthTest):
    extra_config = "pin_workers = true;"

    def test_each_worker_runs_on_one_cpu_of_its_own(self):
        allowed = sorted(os.sched_getaffinity(0))
        for index in range(2):  # the harness runs 2 workers
            self.hearthd.wait_for_line(f"worker {index} pinned to CPU "
                                       f"{allowed[index % len(allowed)]}")
        pinned = set()
        for task in os.listdir(f"/proc/{self.hearthd.process.pid}/task"):
            affinity = os.sched_getaffinity(int(task))
            if len(affinity) == 1:
                pinned.add(next(iter(affinity)))
        self.assertEqual(pinned, {allowed[i % len(allowed)] for i in range(2)})
        # And the pinned workers serve.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            request = harness.binding_request(os.urandom(12))
            client.sendto(request, ("127.0.0.1", self.port))
            self.assertEqual(client.recv(512)[8:20], request[8:20])


if __name__ == "__main__":
    unittest.main()


class SecondStartTest(harness.HearthTest):
    """A second hearthd on the same addresses (./run.sh twice, a manual start beside
    systemd) is refused at once, naming the address and the process that holds it."""

    def test_a_second_start_on_the_same_addresses_is_refused(self):
        second = harness.Process([harness.HEARTHD, "--config", self.config_path], "second hearthd")
        self.addCleanup(second.stop)
        self.assertEqual(second.process.wait(timeout=20), 1)
        line = second.wait_for_line("is another hearthd running?")
        self.assertIn(f"127.0.0.1:{self.port}", line)
        self.assertIn(f"pid {self.hearthd.process.pid}", line)
        # The first one still has every client: the kernel did not split them.
        for _ in range(20):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
                client.settimeout(5)
                request = harness.binding_request(os.urandom(12))
                client.sendto(request, ("127.0.0.1", self.port))
                self.assertEqual(client.recv(512)[8:20], request[8:20])
        self.assertNotIn("hearthd ready", second.output())

    def test_an_address_another_program_holds_is_named(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen(1)
            port = squatter.getsockname()[1]
            config = os.path.join(self.directory.name, "squatted.conf")
            with open(self.config_path) as original, open(config, "w") as copy:
                text = original.read().replace(f'tcp = [ "127.0.0.1:{self.port}" ]',
                                               f'tcp = [ "127.0.0.1:{port}" ]')
                copy.write(text.replace(f'udp = [ "127.0.0.1:{self.port}" ]',
                                        f'udp = [ "127.0.0.1:{harness.free_port()}" ]'))
            second = harness.Process([harness.HEARTHD, "--config", config], "second hearthd")
            self.addCleanup(second.stop)
            self.assertEqual(second.process.wait(timeout=20), 1)
            line = second.wait_for_line("already in use")
            self.assertIn(f"127.0.0.1:{port} (listen.tcp)", line)
            self.assertIn(f"pid {os.getpid()}", line)
