"""hearthctl's commands against a real hearthd (issue 20): version, disconnect, config,
log-level; a host name or a URL for the address; exit 2 for usage errors and 3 for an
answer that cannot be read (from a server in this test that answers garbage)."""

import json
import os
import socket
import struct
import subprocess
import tempfile
import threading
import unittest
import urllib.error

import harness
from test_admin import TOKEN, AdminFixture

LIFETIME = 0x000D
# With TOKEN and harness.SECRET, the secrets of this test's config: none may appear in
# `hearthctl config` (the Redis password, which needs the Redis store, is checked in
# tests/admin/config_json_test.cpp).
READ_ONLY_TOKEN = "read-only-token-0123456789abcdef"


def hearthd_version():
    """The version hearthd itself prints."""
    return subprocess.run([harness.HEARTHD, "--version"], capture_output=True, text=True,
                          timeout=10, check=True).stdout.strip().split()[-1]


class HearthctlCommandsTest(AdminFixture):
    def setUp(self):
        self.audit_directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.audit_directory.cleanup)
        self.audit_path = os.path.join(self.audit_directory.name, "audit.log")
        # The admin group's last key, then the audit group (the fixture closes it).
        self.admin_extra = (f'read_only_token = "{READ_ONLY_TOKEN}"; }};\n'
                            f'audit = {{ path = "{self.audit_path}";')
        super().setUp()

    def allocation_ids(self):
        answer = json.loads(self.get("/v1/allocations")[1])["allocations"]
        return {allocation["id"] for allocation in answer}

    def audit_lines(self):
        with open(self.audit_path) as file:
            return [json.loads(line) for line in file if line.strip()]

    def test_version_prints_hearthctls_and_the_nodes(self):
        shown = self.hearthctl("version")
        self.assertEqual(shown.returncode, 0, shown.stderr)
        version = hearthd_version()
        self.assertEqual(shown.stdout.splitlines(), [f"hearthctl {version}", f"hearthd {version}"])
        own = self.hearthctl("--version")
        self.assertEqual(own.returncode, 0, own.stderr)
        self.assertEqual(own.stdout.strip(), f"hearthctl {version}")
        # The read-only token may ask which version runs.
        self.assertEqual(self.hearthctl("version", token=READ_ONLY_TOKEN).returncode, 0)

    def test_disconnect_ends_exactly_that_allocation_with_its_reason(self):
        clients = []
        for user in ("alice", "bob"):
            client = harness.StreamTurnClient(self.port, user=user)
            self.addCleanup(client.close)
            client.allocate()
            clients.append(client)
        ids = self.allocation_ids()
        self.assertEqual(len(ids), 2)
        doomed, kept = sorted(ids)
        ended = self.hearthctl("disconnect", str(doomed))
        self.assertEqual(ended.returncode, 0, ended.stderr)
        self.assertIn(f"disconnected allocation {doomed}", ended.stdout)
        self.assertEqual(self.allocation_ids(), {kept})
        self.hearthd.wait_for_line(f"allocation {doomed} deleted: reason=disconnected by an operator")
        deleted = [line for line in self.audit_lines() if line["event"] == "allocation_deleted"]
        self.assertEqual([(line["allocation"], line["reason"]) for line in deleted],
                         [(doomed, "disconnected")])
        # An id no worker holds (now this one too): exit 1, the node's one-line reason.
        for unknown in (str(doomed), "999999999"):
            refused = self.hearthctl("disconnect", unknown)
            self.assertEqual(refused.returncode, 1, refused.stderr)
            self.assertEqual(refused.stderr.strip(), "hearthctl: no such allocation")
        self.assertEqual(self.allocation_ids(), {kept})
        # Ending one is the admin token's, not the read-only one's.
        refused = self.hearthctl("disconnect", str(kept), token=READ_ONLY_TOKEN)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertEqual(self.allocation_ids(), {kept})

    def test_config_masks_every_secret(self):
        shown = self.hearthctl("config")
        self.assertEqual(shown.returncode, 0, shown.stderr)
        config = json.loads(shown.stdout)
        self.assertEqual(config["admin"]["token"], "(set)")
        self.assertEqual(config["admin"]["read_only_token"], "(set)")
        self.assertEqual(config["session_store"]["redis"]["password"], "")
        self.assertEqual(config["auth"]["secrets"], [{"name": "test"}])
        for secret in (TOKEN, READ_ONLY_TOKEN, harness.SECRET):
            self.assertNotIn(secret, shown.stdout)
        # The read-only token is refused the configuration.
        self.assertEqual(self.hearthctl("config", token=READ_ONLY_TOKEN).returncode, 1)

    def refresh(self, client):
        client.request(harness.REFRESH, [(LIFETIME, struct.pack("!I", 600))])

    def test_log_level_changes_what_hearthd_logs(self):
        set_info = self.hearthctl("log-level", "info")
        self.assertEqual(set_info.returncode, 0, set_info.stderr)
        self.assertIn("info", set_info.stdout)
        self.hearthd.wait_for_line("log level set to info")
        # At info a Refresh (logged at debug) leaves no line: the deletion after it, at
        # info, is awaited so that the absence is not a matter of timing.
        since = self.hearthd.mark()
        client = harness.StreamTurnClient(self.port)
        client.allocate()
        self.refresh(client)
        client.close()
        self.hearthd.wait_for_line("reason=client connection closed", since=since)
        self.assertNotIn(" refreshed: lifetime=", "\n".join(self.hearthd.lines[since:]))
        set_debug = self.hearthctl("log-level", "debug")
        self.assertEqual(set_debug.returncode, 0, set_debug.stderr)
        since = self.hearthd.mark()
        client = harness.StreamTurnClient(self.port)
        self.addCleanup(client.close)
        client.allocate()
        self.refresh(client)
        self.hearthd.wait_for_line(" refreshed: lifetime=600s", since=since)

    def test_an_unknown_level_is_a_usage_error_and_a_400(self):
        refused = self.hearthctl("log-level", "loud")
        self.assertEqual(refused.returncode, 2)
        self.assertEqual(len(refused.stderr.strip().splitlines()), 1, refused.stderr)
        with self.assertRaises(urllib.error.HTTPError) as answer:
            self.get("/v1/log-level?level=loud", method="POST")
        self.assertEqual(answer.exception.code, 400)

    def test_the_address_may_be_a_host_name_or_a_url(self):
        for admin in (f"localhost:{self.admin_port}", f"http://127.0.0.1:{self.admin_port}",
                      f"http://localhost:{self.admin_port}/"):
            status = self.hearthctl("status", admin=admin)
            self.assertEqual(status.returncode, 0, f"{admin}: {status.stderr}")
            self.assertIn("ready", status.stdout)
        bad = self.hearthctl("status", admin="ftp://127.0.0.1:21")
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
        # https is spoken (for an admin API behind a TLS proxy); hearthd's own is plain
        # HTTP, so the handshake fails: no answer, exit 3, one line.
        tls = self.hearthctl("status", admin=f"https://127.0.0.1:{self.admin_port}")
        self.assertEqual(tls.returncode, 3, tls.stderr)
        self.assertEqual(len(tls.stderr.strip().splitlines()), 1, tls.stderr)


class HearthctlIpv6Test(AdminFixture):
    """The admin API on [::1]: hearthctl reaches it by the IPv6 literal and by URL."""

    def setUp(self):
        self.admin_port = harness.free_port((socket.SOCK_STREAM,))
        self.extra_config = f'admin = {{ listen = "[::1]:{self.admin_port}"; token = "{TOKEN}"; }};'
        harness.HearthTest.setUp(self)

    def test_an_ipv6_literal_in_brackets(self):
        for admin in (f"[::1]:{self.admin_port}", f"http://[::1]:{self.admin_port}"):
            status = self.hearthctl("status", admin=admin)
            self.assertEqual(status.returncode, 0, f"{admin}: {status.stderr}")
            self.assertIn("ready", status.stdout)


class GarbageServer:
    """A TCP server on loopback that answers every connection with `answer` and closes."""

    def __init__(self, answer):
        self.answer = answer
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except socket.timeout:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    connection.recv(65536)
                    connection.sendall(self.answer)
                except OSError:
                    pass

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()


class HearthctlAnswersTest(unittest.TestCase):
    """hearthctl against servers that are not hearthd: no node is started."""

    def hearthctl(self, port, *arguments):
        hearthctl = os.environ.get("HEARTHCTL", "")
        if not hearthctl:
            self.fail("HEARTHCTL must name the hearthctl binary (ctest sets it)")
        environment = dict(os.environ, HEARTH_ADMIN_TOKEN=TOKEN)
        return subprocess.run([hearthctl, "--admin", f"127.0.0.1:{port}", "--config",
                               "/nonexistent", *arguments], capture_output=True, text=True,
                              timeout=30, env=environment)

    def test_an_answer_that_cannot_be_read_exits_3(self):
        for answer in (b"\x00\xffthis is no HTTP at all\r\n\r\n",
                       b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 9\r\nConnection: close\r\n\r\nnot json!"):
            server = GarbageServer(answer)
            self.addCleanup(server.stop)
            for command in ("status", "version", "config"):
                result = self.hearthctl(server.port, command)
                self.assertEqual(result.returncode, 3, f"{answer!r} {command}: {result.stderr}")
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def test_a_usage_error_exits_2_with_one_line(self):
        for arguments in (["frobnicate"], ["disconnect"], ["disconnect", "not-a-number"],
                          ["mint", "--session", "s1", "--user", "u", "--ttl", "0"]):
            result = self.hearthctl(9, *arguments)  # never asked: the usage is checked first
            self.assertEqual(result.returncode, 2, arguments)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn("try hearthctl --help", result.stderr)


if __name__ == "__main__":
    unittest.main()
