"""Worker threads: pinned one per CPU on request (pin_workers)."""

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
