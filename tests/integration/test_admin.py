"""The admin API and hearthctl against a real hearthd: health, metrics, allocations,
sessions, revocation and minting, with the bearer token enforced."""

import json
import os
import signal
import socket
import struct
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import harness

TOKEN = "admin-test-token-0123456789abcdef"
HEARTHCTL = os.environ.get("HEARTHCTL", "")


class AdminFixture(harness.HearthTest):
    """A hearthd with its admin API on, and hearthctl pointed at it."""

    relay_ports = (46000, 46999)
    admin_extra = ""  # more keys of the admin group

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = (f'admin = {{ listen = "127.0.0.1:{self.admin_port}"; '
                             f'token = "{TOKEN}"; {self.admin_extra} }};')
        super().setUp()

    def get(self, path, token=TOKEN, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method=method,
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()

    def rewrite_config(self, old, new):
        with open(self.config_path) as file:
            text = file.read()
        self.assertIn(old, text)
        with open(self.config_path, "w") as file:
            file.write(text.replace(old, new))

    def hearthctl(self, *arguments, token=TOKEN, admin=None, stdin=None):
        """hearthctl against this node, its token in the environment (never on argv)."""
        if not HEARTHCTL:
            self.fail("HEARTHCTL must name the hearthctl binary (ctest sets it)")
        environment = dict(os.environ, HEARTH_ADMIN_TOKEN=token)
        return subprocess.run([HEARTHCTL, "--admin", admin or f"127.0.0.1:{self.admin_port}",
                               "--config", "/nonexistent", *arguments],
                              capture_output=True, text=True, timeout=30, env=environment,
                              input=stdin)


class AdminTest(AdminFixture):
    def test_every_request_needs_the_token(self):
        for token in ("", "wrong-token"):
            with self.assertRaises(urllib.error.HTTPError) as refused:
                self.get("/v1/status", token=token)
            self.assertEqual(refused.exception.code, 401)
        status, body = self.get("/v1/status")
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
        self.assertIn("hearth_udp_socket_drops_total 0\n", self.get("/metrics")[1])
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
                 if line.startswith("hearth_udp_socket_drops_total ")]
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
        wrong_token = self.hearthctl("status", token="nope")
        self.assertEqual(wrong_token.returncode, 3)
        unreachable = self.hearthctl("status", admin=f"127.0.0.1:{harness.free_port()}")
        self.assertEqual(unreachable.returncode, 3)
        self.assertIn("unreachable", unreachable.stderr)

    def test_hearthctl_never_takes_a_token_or_a_secret_on_its_command_line(self):
        # What ps shows every user of the host: refused with a one-line usage error.
        for arguments in (["--token", TOKEN, "status"], [f"--token={TOKEN}", "status"],
                          ["status", "--token", TOKEN],
                          ["secrets", "add", "zz-new", "a-brand-new-secret-0123456789"]):
            refused = self.hearthctl(*arguments)
            self.assertEqual(refused.returncode, 2, arguments)
            self.assertEqual(len(refused.stderr.strip().splitlines()), 1, refused.stderr)
            self.assertNotIn("a-brand-new-secret", refused.stdout + refused.stderr)
        self.assertIn("HEARTH_ADMIN_TOKEN", self.hearthctl("--token", TOKEN, "status").stderr)
        # The token comes from a file, or the environment (every call of this fixture).
        token_file = os.path.join(self.directory.name, "admin.token")
        with open(token_file, "w") as file:
            file.write(TOKEN + "\n")
        from_file = self.hearthctl("--token-file", token_file, "status", token="")
        self.assertEqual(from_file.returncode, 0, from_file.stderr)
        # A secret's value comes on stdin (here refused by a node without Redis, after
        # reading it: 409, not a usage error).
        added = self.hearthctl("secrets", "add", "zz-new", stdin="a-brand-new-secret-0123456789\n")
        self.assertEqual(added.returncode, 1, added.stderr)
        self.assertIn("Redis", added.stderr)
        nothing = self.hearthctl("secrets", "add", "zz-new", stdin="")
        self.assertEqual(nothing.returncode, 2)

    def test_a_secret_in_the_query_string_is_refused(self):
        for query in ("name=zz-new&value=a-brand-new-secret-0123456789", "value=x", "name=zz"):
            with self.assertRaises(urllib.error.HTTPError) as refused:
                self.get(f"/v1/secrets?{query}", method="POST")
            self.assertEqual(refused.exception.code, 400)
            self.assertIn("request body", json.loads(refused.exception.read())["error"])


class AdminLimitsTest(AdminFixture):
    """Issue 17, point 6: the admin API's time and connections are bounded."""

    relay_ports = (47000, 47499)
    admin_extra = "request_deadline = 2; max_connections = 3;"

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.admin_port), timeout=10)
        self.addCleanup(sock.close)
        return sock

    def counter(self, name):
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        return None

    def test_a_request_trickling_in_is_cut_at_its_deadline(self):
        sock = self.connect()
        opened = time.monotonic()
        sock.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
        sock.settimeout(0.5)
        closed_after = None
        for _ in range(20):  # a header byte every half second, at most ten seconds
            try:
                sock.sendall(b"X")
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - opened
                    break
            except socket.timeout:
                continue  # still open: the next byte
            except (ConnectionResetError, BrokenPipeError):
                closed_after = time.monotonic() - opened
                break
        self.assertIsNotNone(closed_after, "a trickling request held its connection")
        self.assertGreaterEqual(closed_after, 1.5)  # the deadline, not at once
        self.assertLess(closed_after, 4.0)          # not an inactivity timeout
        self.assertEqual(self.counter("hearth_admin_requests_cut_total"), 1)

    def test_connections_past_the_cap_are_refused(self):
        held = [self.connect() for _ in range(3)]
        for sock in held:
            sock.sendall(b"GET /v1/status HTTP/1.1\r\n")  # and no more
        extra = self.connect()
        extra.sendall(f"GET /v1/status HTTP/1.0\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        answer = b""
        try:
            while chunk := extra.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
        status_line = answer.split(b"\r\n", 1)[0]
        self.assertNotIn(b" 200 ", status_line)  # 503, or cut unanswered
        for sock in held:
            sock.close()
        # Once those are gone, requests are served again; the refusal was counted.
        refused = None
        for _ in range(50):  # bounded: the held connections' ends reach hearthd
            try:
                refused = self.counter("hearth_admin_connections_refused_total")
                break
            except urllib.error.HTTPError as error:
                self.assertEqual(error.code, 503)
        self.assertGreaterEqual(refused, 1)


class ReloadTest(AdminFixture):
    relay_ports = (48000, 48999)
    NEW_SECRET = "rotated-secret-abcdefghijklmnop"

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
        self.assertIn('hearth_rate_limited_requests_total{limit="upkeep"} 1\n',
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
            self.get("/v1/status")
        self.assertEqual(refused.exception.code, 401)
        self.assertEqual(self.get("/v1/status", token=new_token)[0], 200)
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


READ_ONLY_TOKEN = "read-only-token-0123456789abcdef"


class ReadOnlyAccessTest(AdminFixture):
    """What a load balancer and Prometheus may do without the admin token: GET /ready with
    no token at all, and reading with admin.read_only_token, which changes nothing."""

    admin_extra = f'read_only_token = "{READ_ONLY_TOKEN}";'

    def refused(self, path, token, method="GET"):
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.get(path, token=token, method=method)
        return refused.exception.code

    def test_ready_needs_no_token_and_tells_no_counts(self):
        status, body = self.get("/ready", token="")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ready"}))
        # Everything else still needs a token, and a stranger learns no path exists.
        self.assertEqual(self.refused("/v1/status", ""), 401)
        self.assertEqual(self.refused("/metrics", ""), 401)
        self.assertEqual(self.refused("/no/such/path", ""), 401)

    def test_health_needs_no_token_and_tells_no_counts(self):
        status, body = self.get("/health", token="")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ready"}))

    def test_health_stays_200_while_draining_and_says_so(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()  # so the drain does not end the node at once
        drained = self.hearthctl("drain", "--deadline", "60")
        self.assertEqual(drained.returncode, 0, drained.stderr)
        status, body = self.get("/health", token="")
        self.assertEqual((status, json.loads(body)), (200, {"status": "draining"}))
        shown = self.hearthctl("status")  # the counts, from /v1/status with the token
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("draining", shown.stdout)

    def test_ready_is_503_while_draining(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()  # so the drain does not end the node at once
        drained = self.hearthctl("drain", "--deadline", "60")
        self.assertEqual(drained.returncode, 0, drained.stderr)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.get("/ready", token="")
        self.assertEqual(refused.exception.code, 503)
        self.assertEqual(json.loads(refused.exception.read()), {"status": "draining"})

    def test_the_read_only_token_reads_and_changes_nothing(self):
        for path in ("/metrics", "/v1/status", "/v1/allocations", "/v1/sessions", "/v1/records",
                     "/v1/history"):
            self.assertEqual(self.get(path, token=READ_ONLY_TOKEN)[0], 200, path)
        for path, method in (("/v1/drain", "POST"), ("/v1/reload", "POST"),
                             ("/v1/credentials?session=s1&user=alice", "POST"),
                             ("/v1/sessions/s1/revoke", "POST"), ("/v1/config", "GET"),
                             ("/v1/secrets", "GET")):
            self.assertEqual(self.refused(path, READ_ONLY_TOKEN, method), 403, path)
        self.assertEqual(self.get("/ready", token="")[0], 200)  # the drain never happened
        self.assertEqual(self.refused("/metrics", "wrong-token-0123456789"), 401)

    def test_a_reload_changes_the_read_only_token(self):
        new_token = "another-read-only-token-0123456"
        self.rewrite_config(f'read_only_token = "{READ_ONLY_TOKEN}"',
                            f'read_only_token = "{new_token}"')
        reloaded = self.hearthctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertEqual(self.refused("/metrics", READ_ONLY_TOKEN), 401)
        self.assertEqual(self.get("/metrics", token=new_token)[0], 200)
        self.assertEqual(json.loads(self.get("/v1/config")[1])["admin"]["read_only_token"],
                         "(set)")  # never the value


class DrainTest(AdminFixture):
    """hearthctl drain: the answer always comes first, then a node with nothing left to
    relay exits with 0, which systemd's Restart=on-failure leaves stopped."""

    def test_draining_an_idle_node_answers_then_exits_with_0(self):
        drained = self.hearthctl("drain")
        self.assertEqual(drained.returncode, 0, drained.stderr)
        self.assertIn("draining: new allocations are redirected", drained.stdout)
        self.assertEqual(self.hearthd.process.wait(timeout=20), 0, self.hearthd.output())
        self.hearthd.wait_for_line("drain done: 0 allocation(s) left")

    def test_status_shows_draining_while_an_allocation_is_open(self):
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        drained = self.hearthctl("drain", "--deadline", "60")
        self.assertEqual(drained.returncode, 0, drained.stderr)
        status = self.hearthctl("status")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn("draining (ready)", status.stdout)
        self.assertIsNone(self.hearthd.process.poll())  # still relaying its allocation


class HistoryTest(AdminFixture):
    """GET /v1/history: the node's samples every 5 s, filled from the workers' snapshots."""

    def history(self):
        return json.loads(self.get("/v1/history")[1])

    def test_samples_show_the_relayed_traffic_and_loss_and_the_ring_stays_bounded(self):
        first = self.history()
        self.assertEqual((first["interval_seconds"], first["capacity"]), (5, 180))
        client = harness.DatagramTurnClient(self.port)
        self.addCleanup(client.close)
        relayed = client.allocate()
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sink.close)
        sink.bind(("127.0.0.1", 0))
        sink.settimeout(2)
        bound = client.request(harness.CHANNEL_BIND,
                               [(0x000C, struct.pack("!HH", 0x4000, 0)),
                                (0x0012, harness.xor_peer(*sink.getsockname()))])
        self.assertEqual(struct.unpack("!H", bound[0:2])[0], 0x0109)
        client.sock.settimeout(0.001)
        # RTP every 20 ms with every tenth sequence number missing (10 % loss), echoed by
        # the peer: traffic both ways until a sample shows it, or 30 s (six intervals).
        seen = None
        deadline = time.monotonic() + 30
        sequence = 0
        while seen is None and time.monotonic() < deadline:
            for _ in range(25):
                sequence += 1
                if sequence % 10 == 0:
                    continue
                rtp = struct.pack("!BBHII", 0x80, 111, sequence, sequence * 960, 0xF00D) + bytes(160)
                client.transmit(struct.pack("!HH", 0x4000, len(rtp)) + rtp)
                sink.sendto(sink.recv(2048), relayed)
                try:
                    client.sock.recv(2048)  # the echo, relayed back: keep the buffer empty
                except socket.timeout:
                    pass
                time.sleep(0.02)  # the stream's pace, not a synchronisation
            samples = self.history()["samples"]
            self.assertLessEqual(len(samples), 180)
            seen = next((s for s in samples if s["to_peer_bps"] > 0 and s["to_client_bps"] > 0
                         and s["loss"] is not None), None)
        self.assertIsNotNone(seen, self.history())
        # 160 bytes of RTP payload every 20 ms or so: tens of kbit/s each way.
        self.assertGreater(seen["to_peer_bps"], 10_000)
        self.assertGreater(seen["to_client_bps"], 10_000)
        self.assertGreater(seen["loss"], 0.05)
        self.assertLess(seen["loss"], 0.2)
        self.assertEqual(seen["allocations"], 1)
        self.assertIsNotNone(seen["mean_quality"])
        self.assertLess(seen["lowest_quality"], 100)
        times = [s["unix_ms"] for s in self.history()["samples"]]
        self.assertEqual(times, sorted(times))
        self.assertLess(abs(times[-1] - time.time() * 1000), 15_000)

    def test_an_idle_node_samples_no_rate_loss_or_quality(self):
        deadline = time.monotonic() + 20
        samples = []
        while not samples and time.monotonic() < deadline:
            samples = self.history()["samples"]
            time.sleep(0.5)  # polling the API; the sample comes on the node's own timer
        self.assertTrue(samples, "no sample within 20 s")
        self.assertEqual((samples[0]["to_peer_bps"], samples[0]["loss"],
                          samples[0]["mean_quality"], samples[0]["allocations"]), (0, None, None, 0))


if __name__ == "__main__":
    unittest.main()
