"""Secrets held in Redis are the cluster's: two real hearthd nodes sharing a real
redis-server. A change made through one node's admin API is announced on
hearth:secrets:changed and applied by every node within a second; a node mints with a new
secret only once every live node reports holding it; a lost message is made good by the
periodic re-read; values travel in request bodies, never in URLs, argv or logs."""

import hashlib
import hmac
import base64
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import harness
from test_redis import ADMIN_TOKEN, RedisFixture, hearthctl

NEW_SECRET = "a-brand-new-cluster-secret-0123456789"
# Polling with credentials that fail must not get the test's own address banned.
NO_BANS = ("limits = { auth_failures_before_ban = 0; auth_failures_before_throttle = 0; "
           "allocate_requests_per_second = 0; unauthenticated_requests_per_second = 0; };")


def made_with(secret, credential):
    """Whether a minted {username, credential} was made with `secret`."""
    digest = hmac.new(secret.encode(), credential["username"].encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode() == credential["credential"]


class SecretsAcrossNodesTest(RedisFixture):
    def setUp(self):
        super().setUp()
        self.open_session()
        self.a = self.start_node("a", extra_config=NO_BANS)
        self.b = self.start_node("b", extra_config=NO_BANS)

    # --- the admin API ---

    def call(self, node, path, method="POST", body=None):
        """(status, parsed JSON answer)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{node.admin_port}{path}", method=method, data=body,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def add_secret(self, node, name="zz-new", value=NEW_SECRET):
        status, answer = self.call(node, "/v1/secrets",
                                   body=json.dumps({"name": name, "value": value}).encode())
        self.assertEqual(status, 200, answer)
        return answer

    def retire_secret(self, node, name="zz-new"):
        status, answer = self.call(node, f"/v1/secrets/{name}/retire")
        self.assertEqual(status, 200, answer)

    def mint(self, node):
        status, answer = self.call(node, "/v1/credentials?session=s1&user=alice")
        self.assertEqual(status, 200, answer)
        return answer

    # --- TURN ---

    def allocates(self, node, credential):
        """Whether a real Allocate over TCP with this username and password succeeds."""
        client = harness.StreamTurnClient(node.port)
        try:
            client.username = credential["username"]
            client.key = hashlib.md5(
                f"{credential['username']}:hearth:{credential['credential']}".encode()).digest()
            client.allocate()
            return True
        except AssertionError:
            return False
        finally:
            client.close()

    def with_secret(self, secret):
        username, password = harness.mint("s1", "alice", secret)
        return {"username": username, "credential": password}

    def await_true(self, condition, within, what, step=0.02):
        """Polls `condition` until it holds; fails past `within` seconds. Returns the time
        it took."""
        started = time.monotonic()
        while not condition():
            self.assertLess(time.monotonic() - started, within, f"{what} within {within} s")
            time.sleep(step)
        return time.monotonic() - started

    # --- the tests ---

    def test_a_secret_added_on_one_node_is_accepted_by_the_other_within_a_second(self):
        self.add_secret(self.a)
        started = time.monotonic()

        def minted_by_a_and_accepted_by_b():
            credential = self.mint(self.a)
            return made_with(NEW_SECRET, credential) and self.allocates(self.b, credential)

        self.await_true(minted_by_a_and_accepted_by_b, 1.0,
                        "a credential minted by a with the new secret accepted by b")
        self.assertLess(time.monotonic() - started, 1.0)
        # a holds it too, and b reports it in the registry.
        self.assertTrue(self.allocates(self.a, self.with_secret(NEW_SECRET)))
        self.assertEqual(self.cli("HGET", "hearth:node:b", "secrets"), "test zz-new")

    def test_minting_waits_for_a_live_node_that_does_not_hold_the_new_secret(self):
        # b is stopped (SIGSTOP) once registered: its registry entry stays live (30 s), and
        # it cannot apply the change, as a node that is slow or cut off from the channel.
        self.await_true(lambda: self.cli("HGET", "hearth:node:b", "secrets") == "test", 5.0,
                        "b registered with its secrets")
        self.b.process.send_signal(signal.SIGSTOP)
        self.addCleanup(lambda: self.b.process.send_signal(signal.SIGCONT))
        self.add_secret(self.a)
        # a accepts the new secret at once, but keeps minting with the old one.
        self.assertTrue(self.allocates(self.a, self.with_secret(NEW_SECRET)))
        for _ in range(5):
            credential = self.mint(self.a)
            self.assertTrue(made_with(harness.SECRET, credential), credential)
            time.sleep(0.3)  # over more than one of a's 1-second looks at the registry
        status, listed = self.call(self.a, "/v1/secrets", method="GET")
        self.assertEqual(status, 200)
        self.assertEqual(listed["minting_waits_for"], ["b"])
        self.assertEqual([s["name"] for s in listed["secrets"] if s["minting"]], ["test"])

        # b comes back, applies the change it was sent, reports it: a mints with it.
        self.b.process.send_signal(signal.SIGCONT)
        self.await_true(lambda: made_with(NEW_SECRET, self.mint(self.a)), 5.0,
                        "a minting with the new secret once b holds it")
        self.assertTrue(self.allocates(self.b, self.mint(self.a)))

    def test_a_retired_secret_stops_working_on_both_nodes_within_a_second(self):
        self.add_secret(self.a)
        credential = self.with_secret(NEW_SECRET)
        self.await_true(lambda: self.allocates(self.b, credential), 1.0, "b accepting it")
        self.await_true(lambda: made_with(NEW_SECRET, self.mint(self.a)), 2.0,
                        "a minting with it")
        self.retire_secret(self.b)
        started = time.monotonic()
        for node in (self.a, self.b):
            self.await_true(lambda: not self.allocates(node, credential),
                            1.0 - (time.monotonic() - started), f"{node.name} refusing it")
        self.assertTrue(made_with(harness.SECRET, self.mint(self.a)))
        self.assertTrue(made_with(harness.SECRET, self.mint(self.b)))
        self.assertEqual(self.cli("HEXISTS", "hearth:secrets", "zz-new"), "0")

    def test_a_lost_message_is_made_good_by_the_periodic_reread(self):
        # Written without a PUBLISH: what a node sees when the message did not reach it.
        mark = self.b.mark()
        self.cli("HSET", "hearth:secrets", "zz-new", NEW_SECRET)
        took = self.await_true(lambda: self.allocates(self.b, self.with_secret(NEW_SECRET)),
                               12.0, "b reading the secret again on its own", step=0.2)
        self.assertFalse(any("secrets changed in Redis" in line
                             for line in self.b.lines[mark:]))
        self.assertGreater(took, 0.0)
        self.await_true(lambda: made_with(NEW_SECRET, self.mint(self.a)), 12.0,
                        "a minting with it once both read it", step=0.2)

    def test_after_a_redis_restart_changes_still_arrive_on_the_channel(self):
        marks = [self.a.mark(), self.b.mark()]
        self.restart_redis_keeping_its_data()
        for node, mark in zip((self.a, self.b), marks):
            node.wait_for_line("Redis 127.0.0.1:%d connected" % self.redis_port, timeout=30,
                               since=mark)
        self.add_secret(self.a)
        credential = self.with_secret(NEW_SECRET)
        self.await_true(lambda: self.allocates(self.b, credential), 1.0,
                        "b accepting it after resubscribing")

    def test_a_value_in_the_url_or_not_in_json_is_refused(self):
        for query in (f"name=zz-new&value={NEW_SECRET}", f"value={NEW_SECRET}", "name=zz-new"):
            status, answer = self.call(self.a, f"/v1/secrets?{query}",
                                       body=json.dumps({"name": "zz", "value": NEW_SECRET})
                                       .encode())
            self.assertEqual(status, 400, query)
            self.assertIn("never in the URL", answer["error"])
        status, answer = self.call(self.a, "/v1/secrets",
                                   body=f"name=zz-new&value={NEW_SECRET}".encode())
        self.assertEqual(status, 400)
        self.assertIn("JSON", answer["error"])
        self.assertNotIn(NEW_SECRET, json.dumps(answer))
        self.assertEqual(self.cli("HEXISTS", "hearth:secrets", "zz-new"), "0")

    def test_a_name_is_not_given_another_value_in_place(self):
        self.add_secret(self.a)
        self.add_secret(self.b)  # the same value again: nothing changes
        status, answer = self.call(
            self.b, "/v1/secrets",
            body=json.dumps({"name": "zz-new", "value": "another-value-0123456789"}).encode())
        self.assertEqual(status, 409, answer)
        self.assertEqual(self.cli("HGET", "hearth:secrets", "zz-new"), NEW_SECRET)

    def test_the_value_is_never_in_hearthctl_argv_nor_in_the_logs(self):
        ctl = subprocess.Popen(
            [os.environ["HEARTHCTL"], "--admin", f"127.0.0.1:{self.a.admin_port}", "--config",
             "/nonexistent", "secrets", "add", "zz-new"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, HEARTH_ADMIN_TOKEN=ADMIN_TOKEN))
        try:
            # While hearthctl waits for its stdin, what every user of the host can see.
            ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(ctl.pid)],
                                capture_output=True, text=True, timeout=10)
            self.assertIn("secrets add zz-new", ps.stdout)
            self.assertNotIn(NEW_SECRET, ps.stdout)
            out, err = ctl.communicate(NEW_SECRET + "\n", timeout=30)
        finally:
            if ctl.poll() is None:
                ctl.kill()
                ctl.wait()
        self.assertEqual(ctl.returncode, 0, err)
        self.assertNotIn(NEW_SECRET, out + err)
        credential = self.with_secret(NEW_SECRET)
        self.await_true(lambda: self.allocates(self.b, credential), 1.0, "b accepting it")
        self.retire_secret(self.b)
        self.await_true(lambda: not self.allocates(self.a, credential), 1.0, "a refusing it")
        listed = hearthctl(self.a, "secrets")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertNotIn(NEW_SECRET, listed.stdout)
        for node in (self.a, self.b):  # log_level is debug: the most there is to see
            self.assertFalse([line for line in node.lines if NEW_SECRET in line], node.name)


if __name__ == "__main__":
    import unittest
    unittest.main()
