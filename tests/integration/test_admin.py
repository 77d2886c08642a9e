"""The admin API and hearthctl against a real hearthd: health, metrics, allocations,
sessions, revocation and minting, with the bearer token enforced."""

import json
import os
import signal
import socket
import struct
import subprocess
import unittest
import urllib.error
import urllib.request

import harness

TOKEN = "admin-test-token-0123456789abcdef"
HEARTHCTL = os.environ.get("HEARTHCTL", "")


class AdminFixture(harness.HearthTest):
    """A hearthd with its admin API on, and hearthctl pointed at it."""

    relay_ports = (46000, 46999)

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = (f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; '
                             f'token = "{TOKEN}"; }};')
        super().setUp()

    def get(self, path, token=TOKEN, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method=method,
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()

    def hearthctl(self, *arguments):
        if not HEARTHCTL:
            self.fail("HEARTHCTL must name the hearthctl binary (ctest sets it)")
        return subprocess.run([HEARTHCTL, "--admin", f"127.0.0.1:{self.admin_port}", "--token", TOKEN,
                               "--config", "/nonexistent", *arguments],
                              capture_output=True, text=True, timeout=30)


class AdminTest(AdminFixture):
    def test_every_request_needs_the_token(self):
        for token in ("", "wrong-token"):
            with self.assertRaises(urllib.error.HTTPError) as refused:
                self.get("/health", token=token)
            self.assertEqual(refused.exception.code, 401)
        status, body = self.get("/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ready")

    def test_allocation_appears_in_the_api_metrics_and_hearthctl(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        allocations = json.loads(self.get("/v1/allocations?session=s1")[1])["allocations"]
        self.assertEqual(len(allocations), 1)
        self.assertEqual((allocations[0]["user"], allocations[0]["transport"]), ("alice", "tcp"))
        self.assertEqual(json.loads(self.get(f"/v1/allocations/{allocations[0]['id']}")[1])["id"],
                         allocations[0]["id"])
        self.assertEqual(json.loads(self.get("/v1/allocations?session=other")[1])["allocations"], [])
        metrics = self.get("/metrics")[1]
        self.assertIn("hearth_allocations_active 1\n", metrics)
        self.assertIn('hearth_auth_failures_total{reason="missing_integrity"} 1\n', metrics)
        self.assertIn("hearth_sessions_active 1\n", metrics)
        self.assertIn("hearth_session_store_up 1\n", metrics)
        listed = self.hearthctl("allocations")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("alice", listed.stdout)
        self.assertIn("SESSION", listed.stdout)

    def test_kernel_drops_on_udp_sockets_are_reported(self):
        self.assertIn("hearth_udp_socket_drops 0\n", self.get("/metrics")[1])
        # Stopped, hearthd reads nothing: 22 MB at its UDP listener overflow the receive
        # buffer it asked for (8 MB, less where net.core.rmem_max caps it), and the kernel
        # counts what it drops.
        os.kill(self.hearthd.process.pid, signal.SIGSTOP)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
                for _ in range(16000):
                    flood.sendto(b"\xff" * 1400, ("127.0.0.1", self.port))
        finally:
            os.kill(self.hearthd.process.pid, signal.SIGCONT)
        drops = [line for line in self.get("/metrics")[1].splitlines()
                 if line.startswith("hearth_udp_socket_drops ")]
        self.assertGreater(int(drops[0].split()[1]), 0)

    def test_revoke_tears_down_the_sessions_allocations(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        revoked = self.hearthctl("revoke", "s1")
        self.assertEqual(revoked.returncode, 0, revoked.stderr)
        self.assertIn("1 allocation(s) torn down", revoked.stdout)
        self.hearthd.wait_for_line("reason=session revoked")
        answer = client.request(harness.REFRESH, [])
        self.assertIn(harness.error_code(answer), (401, 437))
        sessions = json.loads(self.hearthctl("--json", "sessions").stdout)["sessions"]
        self.assertEqual({s["id"]: s["state"] for s in sessions}["s1"], "ended")

    def test_mint_checks_the_session_and_returns_ice_server_json(self):
        minted = self.hearthctl("mint", "--session", "s1", "--user", "bob", "--ttl", "120")
        self.assertEqual(minted.returncode, 0, minted.stderr)
        server = json.loads(minted.stdout)
        self.assertRegex(server["username"], r"^\d+:s1:bob$")
        expected = harness.base64.b64encode(harness.hmac.new(
            harness.SECRET.encode(), server["username"].encode(), harness.hashlib.sha1).digest())
        self.assertEqual(server["credential"], expected.decode())
        self.assertEqual(server["ttl"], 120)
        self.assertTrue(any(url.startswith("turn:") for url in server["urls"]))
        refused = self.hearthctl("mint", "--session", "nope", "--user", "bob")
        self.assertEqual(refused.returncode, 1)
        self.assertEqual(refused.stderr.strip(), "hearthctl: unknown session")
        outsider = self.hearthctl("mint", "--session", "s1", "--user", "mallory")
        self.assertEqual(outsider.returncode, 1)

    def test_top_and_help(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        frame = self.hearthctl("top", "--once")
        self.assertEqual(frame.returncode, 0, frame.stderr)
        self.assertIn("QUALITY", frame.stdout)
        self.assertIn("alice", frame.stdout)
        for command in ("status", "allocations", "top", "sessions", "revoke", "mint", "reload",
                        "drain", "undrain", "secrets", "metrics"):
            helped = self.hearthctl(command, "--help")
            self.assertEqual(helped.returncode, 0, command)
            self.assertTrue(helped.stdout.startswith(f"hearthctl {command}"), command)

    def test_secrets_are_listed_and_config_ones_cannot_be_retired_here(self):
        listed = self.hearthctl("secrets")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("test", listed.stdout)
        self.assertIn("(mints)", listed.stdout)
        refused = self.hearthctl("secrets", "retire", "test")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("editing the config", refused.stderr)

    def test_hearthctl_errors_are_one_line_with_exit_codes(self):
        unknown = self.hearthctl("frobnicate")
        self.assertEqual(unknown.returncode, 2)
        self.assertEqual(len(unknown.stderr.strip().splitlines()), 1)
        bad_flag = self.hearthctl("allocations", "--sesion", "s1")
        self.assertEqual(bad_flag.returncode, 2)
        wrong_token = subprocess.run([HEARTHCTL, "--admin", f"127.0.0.1:{self.admin_port}",
                                      "--token", "nope", "status"], capture_output=True, text=True,
                                     timeout=30)
        self.assertEqual(wrong_token.returncode, 3)
        unreachable = subprocess.run([HEARTHCTL, "--admin", f"127.0.0.1:{harness.free_port()}",
                                      "--token", TOKEN, "status"], capture_output=True, text=True,
                                     timeout=30)
        self.assertEqual(unreachable.returncode, 3)
        self.assertIn("unreachable", unreachable.stderr)


class ReloadTest(AdminFixture):
    relay_ports = (48000, 48999)
    NEW_SECRET = "rotated-secret-abcdefghijklmnop"

    def rewrite_config(self, old, new):
        with open(self.config_path) as file:
            text = file.read()
        self.assertIn(old, text)
        with open(self.config_path, "w") as file:
            file.write(text.replace(old, new))

    def allocates(self, secret):
        client = harness.StreamTurnClient(self.port, secret=secret)
        self.addCleanup(client.close)
        try:
            client.allocate()
            return True
        except AssertionError:
            return False

    def test_rotating_a_secret_is_a_reload(self):
        old_entry = f'{{ name = "test"; value = "{harness.SECRET}"; }}'
        self.rewrite_config(old_entry, old_entry + f', {{ name = "next"; value = "{self.NEW_SECRET}"; }}')
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertIn("auth.secrets", reloaded.stdout)
        self.assertTrue(self.allocates(self.NEW_SECRET))
        self.assertTrue(self.allocates(harness.SECRET))  # not retired yet
        minted = json.loads(self.hearthctl("mint", "--session", "s1", "--user", "bob").stdout)
        expected = harness.base64.b64encode(harness.hmac.new(
            self.NEW_SECRET.encode(), minted["username"].encode(), harness.hashlib.sha1).digest())
        self.assertEqual(minted["credential"], expected.decode())  # minting uses the newest

        self.rewrite_config(old_entry + ", ", "")  # retire the old one
        self.assertEqual(self.hearthctl("reload").returncode, 0)
        self.assertFalse(self.allocates(harness.SECRET))
        self.assertTrue(self.allocates(self.NEW_SECRET))

    def test_the_peer_policy_changes_with_a_reload(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        client.permit("127.0.0.1", 9)  # allowed by the test config
        self.rewrite_config('allow = [ "127.0.0.0/8" ]', "allow = [ ]")
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertIn("peer_policy", reloaded.stdout)
        self.hearthd.wait_for_line("reload: done")
        answer = client.request(harness.CREATE_PERMISSION, [(0x0012, harness.xor_peer("127.0.0.1", 9))])
        self.assertEqual(harness.error_code(answer), 403)

    def test_an_invalid_config_is_refused_whole(self):
        self.rewrite_config('realm = "hearth";', 'realm = "hearth";\nworkers = -3;')
        refused = self.hearthctl("reload")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("config refused", refused.stderr)
        self.hearthd.wait_for_line("refused whole")
        self.assertTrue(self.allocates(harness.SECRET))

    def test_a_changed_listener_is_named_as_needing_a_restart(self):
        self.rewrite_config(f'udp = [ "127.0.0.1:{self.port}" ]',
                            f'udp = [ "127.0.0.1:{harness.free_port()}" ]')
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertIn("needs a restart: listen.udp", reloaded.stdout)
        self.hearthd.wait_for_line("listen.udp changed but needs a restart")

    def test_the_upkeep_rate_changes_with_a_reload_and_its_refusals_are_counted(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        with open(self.config_path, "a") as file:
            file.write("limits = { upkeep_requests_per_second = 1; };\n")
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.hearthd.wait_for_line("reload: done")
        refresh = [(0x000D, struct.pack("!I", 600))]  # LIFETIME
        self.assertEqual(harness.error_code(client.request(harness.REFRESH, refresh)), 0)
        self.assertEqual(harness.error_code(client.request(harness.REFRESH, refresh)), 486)
        self.assertIn('hearth_dropped_packets_total{reason="upkeep_rate_limit"} 1\n',
                      self.get("/metrics")[1])

    def test_changed_ban_settings_take_effect(self):
        with open(self.config_path, "a") as file:
            file.write("limits = { auth_failures_before_ban = 2; auth_ban = 60; };\n")
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertIn("limits.auth_failures_before_ban", reloaded.stdout)
        self.assertNotIn("needs a restart", reloaded.stdout)
        # Two wrong passwords past a valid nonce now ban their username (ten did before).
        guesser = harness.StreamTurnClient(self.port, secret="not-the-secret-0123456789abcdef")
        self.addCleanup(guesser.close)
        self.assertEqual(harness.error_code(guesser.allocate_answer()), 401)
        self.assertEqual(harness.error_code(guesser.request(harness.ALLOCATE, [])), 401)
        self.hearthd.wait_for_line("banned for 60 s")


    def effective(self):
        return json.loads(self.get("/v1/config")[1])

    def test_each_changed_key_is_applied_or_named_and_the_effective_config_says_which(self):
        before = self.effective()
        self.rewrite_config('log_level = "debug";', 'log_level = "info";')
        self.rewrite_config('realm = "hearth";', 'realm = "clinic";')
        self.rewrite_config('workers = 2;', 'workers = 3;')
        self.rewrite_config('allow = [ "127.0.0.0/8" ]', 'allow = [ "127.0.0.0/8", "10.9.0.0/16" ]')
        self.rewrite_config('port_min = 48000;', 'port_min = 48100;')
        with open(self.config_path, "a") as file:
            file.write("limits = { max_allocations_per_user = 5; nonce_lifetime = 90; };\n"
                       "drain = { deadline = 77; };\n")
        reloaded = json.loads(self.get("/v1/reload", method="POST")[1])
        self.assertEqual(sorted(reloaded["applied_live"]),
                         ["drain.deadline", "limits.max_allocations_per_user",
                          "limits.nonce_lifetime", "log_level", "peer_policy.allow", "realm"])
        self.assertEqual(sorted(reloaded["needs_restart"]), ["relay.port_min", "workers"])
        after = self.effective()
        self.assertEqual((after["log_level"], after["realm"]), ("info", "clinic"))
        self.assertEqual(after["limits"]["max_allocations_per_user"], 5)
        self.assertEqual(after["drain"]["deadline"], 77)
        self.assertEqual(after["peer_policy"]["allow"], ["127.0.0.0/8", "10.9.0.0/16"])
        # What waits for a restart runs as before.
        self.assertEqual(after["workers"], before["workers"])
        self.assertEqual(after["relay"]["port_min"], before["relay"]["port_min"])
        # The new realm is the one a 401 now names.
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        first = client.request(harness.ALLOCATE, [(0x0019, bytes([17, 0, 0, 0]))])
        realm = [value for kind, value, _ in harness.attributes(first) if kind == 0x0014]
        self.assertEqual(realm, [b"clinic"])

    def test_a_new_admin_token_is_the_only_one_taken_after_a_reload(self):
        new_token = "rotated-admin-token-0123456789ab"
        self.rewrite_config(f'token = "{TOKEN}"', f'token = "{new_token}"')
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertIn("admin.token", reloaded.stdout)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.get("/health")
        self.assertEqual(refused.exception.code, 401)
        self.assertEqual(self.get("/health", token=new_token)[0], 200)
        self.assertEqual(json.loads(self.get("/v1/config", token=new_token)[1])["admin"]["token"],
                         "(set)")  # never the value

    def test_a_session_ended_in_the_file_loses_its_allocations_at_once(self):
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        self.assertEqual(len(json.loads(self.get("/v1/allocations?session=s1")[1])["allocations"]), 1)
        self.rewrite_config('id = "s1"; state = "active";', 'id = "s1"; state = "ended";')
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertIn("session_store.sessions", reloaded.stdout)
        self.hearthd.wait_for_line("allocation(s) of sessions no longer live deleted")
        self.assertEqual(json.loads(self.get("/v1/allocations?session=s1")[1])["allocations"], [])
        self.assertFalse(self.allocates(harness.SECRET))  # and its credentials are refused


if __name__ == "__main__":
    unittest.main()
