"""The audit trail of a real hearthd with the Redis store: every event of an allocation's
life, and of a refused one, in the audit file, in hearth:audit and in the session's
stream, each line valid against relay/net/audit-event.schema.json, the byte counts those
the test relayed, and /metrics counting every event and no drop."""

import json
import os
import re
import socket
import struct
import time
import urllib.request

import harness
try:  # not needed; where installed, the schema and every line are checked by it as well
    import jsonschema
except ImportError:
    jsonschema = None
from test_redis import ADMIN_TOKEN, RedisFixture

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "relay", "net",
                           "audit-event.schema.json")
LIFETIME, CHANNEL_NUMBER, XOR_RELAYED_ADDRESS = 0x000D, 0x000C, 0x0016
UDP_TRANSPORT = (0x0019, bytes([17, 0, 0, 0]))


def validate(instance, schema, root=None, path="$"):
    """The subset of JSON Schema 2020-12 the audit schema uses (type, enum, const, pattern,
    minimum, maximum, required, properties, additionalProperties, items, $ref, allOf,
    if/then), so the test needs nothing beyond the standard library. Returns the errors."""
    root = root or schema
    errors = []
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        errors += validate(instance, target, root, path)
    kinds = {"object": dict, "array": list, "string": str}
    kind = schema.get("type")
    if kind == "integer" and not (isinstance(instance, int) and not isinstance(instance, bool)):
        return errors + [f"{path}: not an integer"]
    if kind in kinds and not isinstance(instance, kinds[kind]):
        return errors + [f"{path}: not {kind}"]
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{path}: {instance!r} not in {schema['enum']}")
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{path}: {instance!r} is not {schema['const']!r}")
    if "pattern" in schema and not re.search(schema["pattern"], instance):
        errors.append(f"{path}: {instance!r} does not match {schema['pattern']}")
    if "minimum" in schema and instance < schema["minimum"]:
        errors.append(f"{path}: {instance} < {schema['minimum']}")
    if "maximum" in schema and instance > schema["maximum"]:
        errors.append(f"{path}: {instance} > {schema['maximum']}")
    if isinstance(instance, dict):
        errors += [f"{path}: no {name}" for name in schema.get("required", [])
                   if name not in instance]
        properties = schema.get("properties", {})
        for name, value in instance.items():
            if name in properties:
                errors += validate(value, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: {name} is not described")
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            errors += validate(item, schema["items"], root, f"{path}[{i}]")
    for part in schema.get("allOf", []):
        errors += validate(instance, part, root, path)
    if "if" in schema and not validate(instance, schema["if"], root, path):
        errors += validate(instance, schema.get("then", {}), root, path)
    return errors


class AuditTest(RedisFixture):
    def setUp(self):
        super().setUp()
        with open(SCHEMA_PATH) as file:
            self.schema = json.load(file)
        self.audit_path = os.path.join(self.directory.name, "audit.log")
        self.open_session(cap=8)
        # Allocations without a LIFETIME get 2 s (RFC 8656 §7.2 clamps a requested one to
        # [default, max]), so the expiry needs no wait beyond that; the others ask for 600.
        self.node = self.start_node("a", extra_config=f"""
audit = {{ path = "{self.audit_path}"; session_stream_maxlen = 100; session_stream_ttl = 3600; }};
limits = {{ allocation_lifetime_default = 2; }};
""")

    # --- a client and peers on loopback ---

    def client(self, user="alice", **credentials):
        client = harness.DatagramTurnClient(self.node.port, user=user, **credentials)
        self.addCleanup(client.close)
        return client

    def allocate(self, client, lifetime=600):
        """An Allocate after the 401 that gives the nonce; returns the answer."""
        first = client.request(harness.ALLOCATE, [UDP_TRANSPORT])
        for kind, value, _ in harness.attributes(first):
            if kind == 0x0015:
                client.nonce = value.decode()
        extra = [(LIFETIME, struct.pack("!I", lifetime))] if lifetime else []
        return client.request(harness.ALLOCATE, [UDP_TRANSPORT] + extra)

    def relayed(self, answer):
        for kind, value, _ in harness.attributes(answer):
            if kind == XOR_RELAYED_ADDRESS:
                return harness.xor_address(value, answer[8:20])
        self.fail(f"Allocate failed with {harness.error_code(answer)}")

    def peer(self, host="127.0.0.1"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        sock.settimeout(5)
        self.addCleanup(sock.close)
        return sock

    def revoke(self, session, user):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.node.admin_port}/v1/sessions/{session}/revoke?user={user}",
            data=b"", method="POST", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    # --- what the trail holds ---

    def file_events(self, count):
        """The audit file's events once it holds `count` (bounded wait: the writer thread
        flushes each line as it writes it)."""
        deadline = time.monotonic() + 10
        while True:
            with open(self.audit_path) as file:
                lines = [line for line in file.read().splitlines() if line]
            if len(lines) >= count or time.monotonic() > deadline:
                return [json.loads(line) for line in lines]
            time.sleep(0.1)

    def stream_events(self, key, count):
        """A stream's events once it holds `count` (bounded wait: lines go to Redis from
        its event loop, after the workers hand them over)."""
        deadline = time.monotonic() + 10
        while True:
            raw = self.cli("XRANGE", key, "-", "+").splitlines()
            # redis-cli prints each entry as its id, then field and value, one a line.
            events = [json.loads(raw[i + 1]) for i, line in enumerate(raw[:-1]) if line == "json"]
            if len(events) >= count or time.monotonic() > deadline:
                return events
            time.sleep(0.1)

    def assert_valid(self, events):
        for event in events:
            self.assertEqual(validate(event, self.schema), [], event)
        if jsonschema is not None:
            jsonschema.Draft202012Validator.check_schema(self.schema)
            for event in events:
                jsonschema.Draft202012Validator(self.schema).validate(event)

    def test_every_event_of_an_allocations_life_is_written_everywhere(self):
        alice = self.client()
        relayed = self.relayed(self.allocate(alice))
        # Two addresses, so two permissions (RFC 8656 §9: one covers every port of its IP).
        send_peer, channel_peer = self.peer(), self.peer("127.0.0.2")
        send_address, channel_address = send_peer.getsockname(), channel_peer.getsockname()

        # A Send indication and the peer's answer (a Data indication): 100 bytes out, 30 in.
        alice.permit(*send_address)
        alice.send_indication(*send_address, b"s" * 100)
        self.assertEqual(send_peer.recvfrom(2048), (b"s" * 100, relayed))
        send_peer.sendto(b"d" * 30, relayed)
        self.assertEqual(alice.sock.recv(2048)[:2], b"\x00\x17")  # Data indication
        # A channel both ways: 50 bytes out, 70 in.
        answer = alice.request(harness.CHANNEL_BIND, [
            (CHANNEL_NUMBER, struct.pack("!HH", 0x4000, 0)),
            (0x0012, harness.xor_peer(*channel_address))])
        self.assertEqual(struct.unpack("!H", answer[:2])[0], 0x0109, harness.error_code(answer))
        alice.transmit(struct.pack("!HH", 0x4000, 50) + b"c" * 50)
        self.assertEqual(channel_peer.recvfrom(2048), (b"c" * 50, relayed))
        channel_peer.sendto(b"e" * 70, relayed)
        self.assertEqual(alice.sock.recv(2048), struct.pack("!HH", 0x4000, 70) + b"e" * 70)

        answer = alice.request(harness.REFRESH, [(LIFETIME, struct.pack("!I", 600))])
        self.assertEqual(struct.unpack("!H", answer[:2])[0], 0x0104, harness.error_code(answer))
        answer = alice.request(harness.REFRESH, [(LIFETIME, struct.pack("!I", 0))])
        self.assertEqual(struct.unpack("!H", answer[:2])[0], 0x0104, harness.error_code(answer))

        # Refused: a password made with another secret.
        stranger = self.client(secret="not-the-secret-0123456789abcdef")
        self.assertEqual(harness.error_code(self.allocate(stranger)), 401)
        # Revoked through the admin API.
        bob = self.client(user="bob")
        self.relayed(self.allocate(bob))
        self.assertEqual(self.revoke("s1", "bob")["user"], "bob")
        # Deleted by this answer or by the revocation published to every node, first come.
        self.node.wait_for_line("reason=session revoked")
        # Expired: the 2 s default lifetime, deleted by the worker's housekeeping.
        late = self.client()
        self.relayed(self.allocate(late, lifetime=None))
        self.node.wait_for_line("reason=expired", timeout=10)

        events = self.file_events(11)
        self.assert_valid(events)
        names = sorted(event["event"] for event in events)
        self.assertEqual(names, sorted(
            ["allocation_created"] * 3 + ["allocation_refreshed", "allocation_refused"] +
            ["allocation_deleted"] * 3 + ["permission_first_used"] * 2 + ["channel_first_used"]))
        for event in events:
            self.assertEqual(event["node"], "a")
            self.assertEqual(event["transport"], "udp")

        client_address = "127.0.0.1:%d" % alice.sock.getsockname()[1]
        relayed_text = "%s:%d" % relayed
        mine = [e for e in events if e.get("client") == client_address]
        by_name = {e["event"]: e for e in mine if e["event"] != "permission_first_used"}
        created = by_name["allocation_created"]
        self.assertEqual((created["session"], created["user"], created["relayed"]),
                         ("s1", "alice", [relayed_text]))
        self.assertEqual(created["lifetime_s"], 600)
        self.assertEqual(by_name["allocation_refreshed"]["lifetime_s"], 600)
        deleted = by_name["allocation_deleted"]
        self.assertEqual(deleted["reason"], "client_request")
        self.assertEqual(deleted["to_peer"], {"bytes": 150, "packets": 2, "dropped": 0})
        self.assertEqual(deleted["to_client"], {"bytes": 100, "packets": 2, "dropped": 0})
        self.assertEqual(by_name["channel_first_used"]["channel"], 0x4000)
        self.assertEqual(by_name["channel_first_used"]["peer"], "127.0.0.2:%d" % channel_address[1])
        permissions = sorted((e["peer"], e["direction"]) for e in mine
                             if e["event"] == "permission_first_used")
        self.assertEqual(permissions, sorted([
            ("127.0.0.1:%d" % send_address[1], "client_to_peer"),
            ("127.0.0.2:%d" % channel_address[1], "client_to_peer")]))

        refused, = [e for e in events if e["event"] == "allocation_refused"]
        self.assertEqual(refused["error"], 401)
        self.assertNotIn("session", refused)  # the credential was not valid: nobody known
        reasons = sorted((e["user"], e["reason"]) for e in events
                         if e["event"] == "allocation_deleted")
        self.assertEqual(reasons, [("alice", "client_request"), ("alice", "expired"),
                                   ("bob", "revoked")])
        expired, = [e for e in events if e.get("reason") == "expired"]
        self.assertGreaterEqual(expired["duration_s"], 1)

        # Redis: the same lines in hearth:audit, the session's in its own stream.
        in_redis = self.stream_events("hearth:audit", len(events))
        self.assert_valid(in_redis)
        self.assertEqual(sorted(map(json.dumps, in_redis)), sorted(map(json.dumps, events)))
        in_session = self.stream_events("hearth:session:s1:audit", 10)
        self.assertEqual(sorted(map(json.dumps, in_session)),
                         sorted(json.dumps(e) for e in events if e.get("session") == "s1"))
        self.assertEqual(len(in_session), 10)
        self.assertGreater(int(self.cli("TTL", "hearth:session:s1:audit")), 0)

        self.assertEqual(self.metric(self.node, "hearth_audit_events_total"), 11)
        self.assertEqual(self.metric(self.node, 'hearth_audit_events_dropped_total{sink="file"}'), 0)
        self.assertEqual(self.metric(self.node, 'hearth_audit_events_dropped_total{sink="redis"}'), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
