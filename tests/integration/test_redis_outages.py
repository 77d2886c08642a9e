"""Calls in progress never end because Redis failed: Redis stopped, hung (SIGSTOP) and
back, under real hearthd nodes and a real redis-server. What an outage may refuse is only
what nobody on this node was known to use: a session never seen."""

import json
import os
import signal
import struct
import subprocess
import unittest

import harness
import test_redis

LIFETIME = 0x000D


class RedisOutageTest(test_redis.RedisFixture):
    # Fast enough for a test to wait on; production keeps 2 s.
    TIMEOUT = 'command_timeout_ms = 500;'

    def refresh(self, client):
        return client.request(harness.REFRESH, [(LIFETIME, struct.pack("!I", 600))])

    def hang_redis(self):
        os.kill(self.redis.process.pid, signal.SIGSTOP)
        # Whatever happens in the test, Redis is woken before it is stopped.
        self.addCleanup(os.kill, self.redis.process.pid, signal.SIGCONT)

    def test_a_refresh_in_an_outage_keeps_the_call_whatever_the_grace(self):
        self.open_session()
        # No grace at all: only new allocations depend on it, never a call in progress.
        node = self.start_node("a", grace=0, redis_settings=self.TIMEOUT)
        client = self.allocate(node)
        self.shut_redis_down()
        node.wait_for_line(f"Redis 127.0.0.1:{self.redis_port} lost")
        self.assertEqual(self.health(node)["status"], "degraded")
        for _ in range(3):  # refreshed again and again through the outage
            answer = self.refresh(client)
            self.assertEqual(struct.unpack("!H", answer[0:2])[0], 0x0104, harness.error_code(answer))
        self.assertGreaterEqual(self.metric(node, "hearth_refreshes_without_store_total"), 3)
        self.assertEqual(len(json.loads(self.admin(node, "/v1/allocations"))["allocations"]), 1)
        # A session this node never knew is refused (fail closed).
        self.assertEqual(self.allocate(node, session="never-seen"), 500)

        mark = node.mark()
        self.start_redis()  # loads what SHUTDOWN SAVE wrote
        node.wait_for_line(f"Redis 127.0.0.1:{self.redis_port} connected", timeout=30, since=mark)
        self.assertEqual(self.health(node)["status"], "ready")
        answer = self.refresh(client)
        self.assertEqual(struct.unpack("!H", answer[0:2])[0], 0x0104)

    def test_a_new_allocation_in_an_outage_needs_a_session_known_live(self):
        self.open_session(participants=("alice", "bob"))
        node = self.start_node("a", redis_settings=self.TIMEOUT)
        self.allocate(node)  # alice: the node serves s1, and reads its participants
        self.hang_redis()
        node.wait_for_line("no answer within the command timeout", timeout=30)
        self.assertGreaterEqual(self.metric(node, "hearth_session_store_timeouts_total"), 1)
        self.assertEqual(self.health(node)["session_store_state"], "down")
        # bob rejoins (a crashed tab) within the grace: his session is known live here.
        self.assertIsInstance(self.allocate(node, user="bob"), harness.StreamTurnClient)
        self.assertEqual(self.allocate(node, session="never-seen"), 500)

    def test_a_hung_redis_makes_nobody_wait_past_the_timeout(self):
        self.open_session()
        node = self.start_node("a", workers=1, redis_settings=self.TIMEOUT)
        client = self.allocate(node)
        # The hiredis connections carry TCP keepalive, so a Redis host that vanishes
        # without a word is found by the kernel too ("timer:(keepalive" in ss -o).
        sockets = subprocess.run(["ss", "-tno", "state", "established",
                                  f"( dport = :{self.redis_port} )"],
                                 capture_output=True, text=True, check=True).stdout
        self.assertIn("timer:(keepalive", sockets)
        timeouts_before = self.metric(node, "hearth_session_store_timeouts_total")
        self.hang_redis()
        # Refresh asks Redis (no cached answer) while it hangs: the answer comes once the
        # command times out, a success, and the node says it is degraded.
        client.sock.settimeout(5)  # ten times the command timeout: the answer comes well before
        answer = self.refresh(client)
        self.assertEqual(struct.unpack("!H", answer[0:2])[0], 0x0104)
        node.wait_for_line("no answer within the command timeout")
        self.assertEqual(self.health(node)["status"], "degraded")
        self.assertEqual(self.metric(node, "hearth_session_store_up"), 0)
        self.assertGreater(self.metric(node, "hearth_session_store_timeouts_total"),
                           timeouts_before)
        mark = node.mark()
        os.kill(self.redis.process.pid, signal.SIGCONT)
        node.wait_for_line(f"Redis 127.0.0.1:{self.redis_port} connected", timeout=30, since=mark)
        self.assertEqual(self.health(node)["status"], "ready")

    def test_a_revocation_made_while_the_node_cannot_reach_redis_lands_when_it_can(self):
        self.open_session()
        node = self.start_node("a", redis_settings=self.TIMEOUT)
        client = self.allocate(node)
        self.hang_redis()
        node.wait_for_line("no answer within the command timeout", timeout=30)
        # Redis wakes and the session is ended at once, likely before the node is back
        # (its reconnect waits out a backoff); the publish may never reach it.
        os.kill(self.redis.process.pid, signal.SIGCONT)
        self.cli("HSET", "hearth:session:s1", "state", "ended")
        self.cli("PUBLISH", "hearth:revocations", "s1")
        node.wait_for_line("session s1", timeout=30)  # revocation received, or read on return
        for _ in range(100):  # bounded: the teardown is posted to the workers
            if not json.loads(self.admin(node, "/v1/allocations"))["allocations"]:
                break
        self.assertEqual(json.loads(self.admin(node, "/v1/allocations"))["allocations"], [])
        self.assertIn(harness.error_code(self.refresh(client)), (401, 437))

    def test_a_participant_removed_without_a_publish_is_caught_by_the_heartbeat(self):
        self.open_session(participants=("alice", "bob"))
        node = self.start_node("a")
        alice = self.allocate(node)
        bob = self.allocate(node, user="bob")
        # The backend removes bob, and its PUBLISH is lost on the way.
        self.cli("SREM", "hearth:session:s1:participants", "bob")
        node.wait_for_line("user bob is no longer a participant of session s1", timeout=20)
        for _ in range(100):  # bounded: the teardown is posted to the workers
            users = [a["user"] for a in json.loads(self.admin(node, "/v1/allocations"))["allocations"]]
            if users == ["alice"]:
                break
        self.assertEqual(users, ["alice"])
        self.assertIn(harness.error_code(self.refresh(bob)), (401, 437))
        self.assertEqual(struct.unpack("!H", self.refresh(alice)[0:2])[0], 0x0104)

    def test_a_node_killed_and_started_again_gives_its_slots_back_at_once(self):
        self.open_session(participants=("alice", "bob"), cap=2)
        node = self.start_node("a")
        self.allocate(node)
        self.allocate(node, user="bob")
        self.assertEqual(self.allocate(node), 486)  # the session's cap
        self.kill_node(node)
        # Its counts would hold the cap for 30 s; started again under the same id, it
        # gives them back as soon as it reaches Redis.
        again = self.start_node("a")
        self.assertIsInstance(self.allocate(again), harness.StreamTurnClient)
        self.assertIsInstance(self.allocate(again, user="bob"), harness.StreamTurnClient)


if __name__ == "__main__":
    unittest.main()
