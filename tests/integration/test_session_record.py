"""The session record of a real hearthd with the Redis store, read as the platform's
backend would: after a session is used by two participants and ended, its record in Redis,
from the admin API on any node and from hearthctl tells who was relayed, how long, how
much and how well, and its numbers are those of the audit trail and of /metrics."""

import json
import os
import socket
import struct
import time
import urllib.error

import harness
from test_redis import RedisFixture, hearthctl

LIFETIME, CHANNEL_NUMBER = 0x000D, 0x000C
PACKETS, LOST = 50, {7, 8, 20, 33, 41}  # an RTP stream with five known gaps
RTP_PAYLOAD = 100


class SessionRecordTest(RedisFixture):
    def setUp(self):
        super().setUp()
        self.audit_path = os.path.join(self.directory.name, "audit.log")
        self.open_session(cap=8)
        self.node = self.start_node("a", extra_config=f"""
audit = {{ path = "{self.audit_path}"; session_stream_ttl = 3600; }};
""")

    def client(self, user):
        client = harness.DatagramTurnClient(self.node.port, user=user)
        self.addCleanup(client.close)
        client.relayed = client.allocate()
        return client

    def peer(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        self.addCleanup(sock.close)
        return sock

    def record(self, node, session="s1"):
        return json.loads(self.admin(node, f"/v1/sessions/{session}/record"))

    def record_when(self, node, condition, session="s1", timeout=10):
        """The record once `condition` holds (bounded wait: updates reach Redis from the
        main loop after the workers hand them over)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                record = self.record(node, session)
                if condition(record):
                    return record
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    raise
                record = None
            if time.monotonic() > deadline:
                self.fail(f"the record never got there: {record}")
            time.sleep(0.1)

    def send_rtp(self, client, sink):
        """RTP over a channel, 20 ms apart (48 kHz timestamps), with the packets of LOST
        never sent; waits until the sink has every packet sent."""
        for index in range(PACKETS):
            if index in LOST:
                continue
            rtp = struct.pack("!BBHII", 0x80, 111, index, index * 960, 0xA11CE) + bytes(RTP_PAYLOAD)
            client.transmit(struct.pack("!HH", 0x4000, len(rtp)) + rtp)
            time.sleep(0.02)  # the stream's pace, not a synchronisation
        for _ in range(PACKETS - len(LOST)):
            sink.recv(2048)

    def audit_deleted(self, count):
        deadline = time.monotonic() + 10
        while True:
            with open(self.audit_path) as file:
                events = [json.loads(line) for line in file.read().splitlines() if line]
            deleted = [event for event in events if event["event"] == "allocation_deleted"]
            if len(deleted) >= count or time.monotonic() > deadline:
                return {event["user"]: event for event in deleted}
            time.sleep(0.1)

    def relayed_total(self, direction):
        total = 0
        for line in self.admin(self.node, "/metrics").splitlines():
            if line.startswith("hearth_relayed_bytes_total{") and f'direction="{direction}"' in line:
                total += int(line.split()[-1])
        return total

    def test_a_used_and_ended_session_leaves_a_record_that_matches_the_counters(self):
        # Whole milliseconds, as hearthd writes them (truncated): an allocation made within
        # the same millisecond is stamped with it, so a fractional start would come after.
        started = time.time_ns() // 1_000_000
        alice, bob = self.client("alice"), self.client("bob")
        sink, bobs_peer = self.peer(), self.peer()
        bound = alice.request(harness.CHANNEL_BIND, [
            (CHANNEL_NUMBER, struct.pack("!HH", 0x4000, 0)),
            (0x0012, harness.xor_peer(*sink.getsockname()))])
        self.assertEqual(struct.unpack("!H", bound[:2])[0], 0x0109, harness.error_code(bound))
        self.send_rtp(alice, sink)
        for _ in range(10):  # the peer answers alice: 10 x 70 bytes to the client
            sink.sendto(b"e" * 70, alice.relayed)
            self.assertEqual(alice.sock.recv(2048)[4:], b"e" * 70)
        bob.permit(*bobs_peer.getsockname())
        for _ in range(3):
            bob.send_indication(*bobs_peer.getsockname(), b"s" * 100)
            bobs_peer.recvfrom(2048)
        answer = bob.request(harness.REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.assertEqual(struct.unpack("!H", answer[:2])[0], 0x0104, harness.error_code(answer))
        live = self.record_when(self.node, lambda r: r["summary"]["live_allocations"] == 1)
        self.assertEqual(live["state"], "live")

        revoked = hearthctl(self.node, "revoke", "s1")
        self.assertEqual(revoked.returncode, 0, revoked.stderr)
        record = self.record_when(self.node, lambda r: r["summary"]["live_allocations"] == 0)
        ended = time.time() * 1000

        self.assertEqual(record["state"], "ended")
        self.assertEqual(record["end_reason"], "revoked")
        users = {p["user"]: p for p in record["participants"]}
        self.assertEqual(sorted(users), ["alice", "bob"])
        alice_record, bob_record = users["alice"], users["bob"]
        rtp_bytes = (PACKETS - len(LOST)) * (12 + RTP_PAYLOAD)
        self.assertEqual(alice_record["to_peer"]["bytes"], rtp_bytes)
        self.assertEqual(alice_record["to_peer"]["packets"], PACKETS - len(LOST))
        self.assertEqual(alice_record["to_client"]["bytes"], 700)
        self.assertEqual(alice_record["to_peer"]["rtp_expected"], PACKETS)
        self.assertEqual(alice_record["to_peer"]["rtp_lost"], len(LOST))
        self.assertEqual(bob_record["to_peer"]["bytes"], 300)
        self.assertEqual(alice_record["allocations_ended"], {"revoked": 1})
        self.assertEqual(bob_record["allocations_ended"], {"client_request": 1})
        # The stream lost 10 % in one quality interval: the score is 40 at best (-60 for
        # the loss), taken while the call ran. Bob relayed without loss: 100.
        lowest = alice_record["lowest_quality"]
        self.assertLessEqual(lowest["score"], 40)
        self.assertTrue(started <= lowest["at_unix_ms"] <= ended, lowest)
        self.assertEqual(bob_record["lowest_quality"]["score"], 100)
        # Shorter than one quality interval (5 s), alice's allocation has one peak: its
        # bytes over its life, as the mean is over her wall-clock span; the two differ only
        # by when each clock was read, a loaded machine's scheduling included
        # (quality_track_test.cpp tests peaks of longer calls).
        peak, mean = alice_record["to_peer"]["peak_bps"], alice_record["to_peer"]["mean_bps"]
        self.assertGreater(mean, 0)
        self.assertAlmostEqual(peak / mean, 1.0, delta=0.2)
        for user, summary in users.items():
            span = (started, summary["started_unix_ms"], summary["ended_unix_ms"], ended)
            self.assertTrue(span[0] <= span[1] <= span[2] <= span[3], (user, span))

        # The whole session is the sum of its participants.
        session = record["summary"]
        self.assertEqual(session["allocations"], 2)
        for leg in ("to_peer", "to_client"):
            self.assertEqual(session[leg]["bytes"],
                             alice_record[leg]["bytes"] + bob_record[leg]["bytes"])
            self.assertEqual(session[leg]["packets"],
                             alice_record[leg]["packets"] + bob_record[leg]["packets"])
        self.assertEqual(session["lowest_quality"], alice_record["lowest_quality"])

        # The audit trail and /metrics counted the same bytes.
        deleted = self.audit_deleted(2)
        for user, summary in users.items():
            self.assertEqual(deleted[user]["to_peer"]["bytes"], summary["to_peer"]["bytes"])
            self.assertEqual(deleted[user]["to_client"]["bytes"], summary["to_client"]["bytes"])
            self.assertEqual(deleted[user]["to_peer"]["packets"], summary["to_peer"]["packets"])
        self.assertEqual(self.relayed_total("client_to_peer"), session["to_peer"]["bytes"])
        self.assertEqual(self.relayed_total("peer_to_client"), session["to_client"]["bytes"])

        # In Redis for the backend, with its expiry, and listed among the ended sessions.
        fields = self.cli("HGETALL", "hearth:session:s1:record").splitlines()
        flat = dict(zip(fields[::2], fields[1::2]))
        self.assertEqual(int(flat["participant.alice.to_peer_bytes"]), rtp_bytes)
        self.assertEqual(int(flat["session.live"]), 0)
        self.assertTrue(0 < int(self.cli("TTL", "hearth:session:s1:record")) <= 3600)
        self.assertNotEqual(self.cli("ZSCORE", "hearth:sessions:ended", "s1"), "")
        listed = json.loads(self.admin(self.node, "/v1/records"))["ended"]
        self.assertEqual([r["session"] for r in listed], ["s1"])

        # Another node answers for the same record: it reads Redis, not its own memory.
        other = self.start_node("b")
        self.assertEqual(self.record(other)["participants"], record["participants"])

        shown = hearthctl(self.node, "record", "s1")
        self.assertEqual(shown.returncode, 0, shown.stderr)
        for text in ("ended (revoked)", "alice", "bob", "(session)", "revoked=1",
                     "client_request=1", "10.0 %"):
            self.assertIn(text, shown.stdout)
        listing = hearthctl(self.node, "record")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertIn("s1", listing.stdout)
        self.assertIn("revoked", listing.stdout)

    def test_a_session_ends_with_its_last_allocation_and_lives_again_with_a_new_one(self):
        alice = self.client("alice")
        answer = alice.request(harness.REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.assertEqual(struct.unpack("!H", answer[:2])[0], 0x0104, harness.error_code(answer))
        record = self.record_when(self.node, lambda r: r["state"] == "ended")
        self.assertEqual(record["end_reason"], "last_allocation_gone")
        self.assertEqual(record["participants"][0]["allocations_ended"], {"client_request": 1})
        self.client("alice")
        record = self.record_when(self.node, lambda r: r["state"] == "live")
        self.assertEqual(record["summary"]["allocations"], 2)
        self.assertEqual(json.loads(self.admin(self.node, "/v1/records"))["ended"], [])

    def test_a_session_the_backend_sets_ended_in_redis_ends_its_record(self):
        self.client("alice")
        self.record_when(self.node, lambda r: r["state"] == "live")
        # No publication: the node's heartbeat (every 10 s) finds the state changed.
        self.cli("HSET", "hearth:session:s1", "state", "ended")
        record = self.record_when(self.node, lambda r: r["summary"]["live_allocations"] == 0,
                                  timeout=30)
        self.assertEqual((record["state"], record["end_reason"]), ("ended", "revoked"))
        self.assertEqual(record["participants"][0]["allocations_ended"], {"revoked": 1})

    def test_an_unknown_session_has_no_record(self):
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.record(self.node, "never-was")
        self.assertEqual(refused.exception.code, 404)
        shown = hearthctl(self.node, "record", "never-was")
        self.assertNotEqual(shown.returncode, 0)
        self.assertIn("no record", shown.stderr + shown.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main()
